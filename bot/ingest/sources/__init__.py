"""Data sources: each turns an outside format into the store's rows (see ``base.Source``)."""
