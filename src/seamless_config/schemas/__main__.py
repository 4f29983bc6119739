"""python -m seamless_config.schemas: rewrite the shipped schemas from core/fields.py."""

from . import write_all

write_all()
