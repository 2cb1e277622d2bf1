"""Every event type the kernels and their helper modules record has its own number, and the
timeline's name for that number is the event's own (a clash would mislabel the timeline)."""

from iadsim.engine import kernel, sites


def test_event_numbers_name_their_events():
    named = {"pack": kernel.EV_PACK, "setup": kernel.EV_SETUP, "react": kernel.EV_REACT,
             "site_hit": sites.EV_SITE_HIT}
    for name, code in named.items():
        assert kernel.EVENT_NAMES[code] == name, (name, code)
    codes = [v for k, v in vars(kernel).items() if k.startswith("EV_") and isinstance(v, int)]
    assert len(codes) == len(set(codes)) == len(kernel.EVENT_NAMES)
