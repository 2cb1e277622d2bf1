"""Command and control: weapon-target assignment policies (see :mod:`iadsim.c2.wta`)."""
