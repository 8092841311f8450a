"""Pieces the screens share: notices, filters, paging, task cards, the selection bar, tables,
and the task page's parts."""
