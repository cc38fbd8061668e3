"""Residency: where data, keys, replicas and grants may be (mandatory, waivable where stated)."""
