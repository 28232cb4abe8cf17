"""The extraction benchmark: python -m bench.extract.run"""
