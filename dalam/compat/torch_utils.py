"""``torch.utils`` under ``dalam run``: only its subpackages (``torch.utils.data``)
are mapped, through :data:`dalam.compat.tables.MODULES`."""
