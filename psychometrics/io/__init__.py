"""Reading and writing response data; long <-> wide; vectorised response validation."""
from .files import FORMATS, file_format, read_responses, write_table
from .layout import long_to_wide
from .validate import CheckedColumn, check_responses

__all__ = ["read_responses", "write_table", "long_to_wide", "check_responses",
           "CheckedColumn", "FORMATS", "file_format"]
