"""targets/ckan"""
