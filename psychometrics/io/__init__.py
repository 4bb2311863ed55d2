"""Reading and writing response data; long <-> wide; vectorised response validation;
the validated item-data object every analysis accepts (:func:`item_data`)."""
from .files import FORMATS, file_format, read_responses, write_table
from .itemdata import ItemData, as_frame, item_data, numeric_matrix
from .layout import long_to_wide
from .validate import CheckedColumn, check_responses

__all__ = ["read_responses", "write_table", "long_to_wide", "check_responses",
           "CheckedColumn", "FORMATS", "file_format", "ItemData", "item_data", "as_frame",
           "numeric_matrix"]
