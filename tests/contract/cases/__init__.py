"""One module per HTTP connector, each defining ``CASE``: a :class:`ContractCase`.

The shared suite in ``tests/contract/test_contract.py`` finds them all.
"""
