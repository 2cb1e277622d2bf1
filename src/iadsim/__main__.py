from iadsim.cli import _entry

_entry()
