"""Plot of a system's engagement envelope from its flyout model (``iadsim catalog show NAME --plot``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iadsim.catalog import System
from iadsim.catalog.envelope import has_flyout, system_table
from iadsim.physics.flyout import predicted_intercept_nb

#: speed of the receding target whose launch limit the plot draws [m/s]
RECEDING_M_S = 250.0


def plot_envelope(system: System, path: str | Path, site_alt_m: float = 0.0) -> Path:
    """Write a PNG of the envelope of ``system`` (launcher at ``site_alt_m`` [m MSL]) against a
    slow target: flyout time inside the envelope, the public slant-range and altitude limits, the
    energy / guidance-time limit of the flyout, and how far out a target receding at 250 m/s may be
    at launch (its predicted intercept point moves out by the flyout time). Returns the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tab = system_table(system, site_alt_m)
    r_cap = system.nominal("engagement_range_max_km") * 1000.0
    r_min = system.nominal("engagement_range_min_km") * 1000.0
    h_cap = system.nominal("engagement_altitude_max_m")
    h_min = system.nominal("engagement_altitude_min_m")
    G, H = np.meshgrid(tab.gr_m, tab.h_m, indexing="ij")
    slant = np.hypot(G, H)
    ok = tab.feasible & (slant <= r_cap) & (slant >= r_min) & (H <= h_cap) & (H >= h_min)
    fig, ax = plt.subplots(figsize=(8, 5), dpi=110)
    tof = np.where(ok, tab.tof_s, np.nan)
    m = ax.pcolormesh(tab.gr_m / 1000, tab.h_m / 1000, tof.T, shading="auto", cmap="viridis")
    fig.colorbar(m, ax=ax, label="flyout time [s]")
    if has_flyout(system):
        ax.contour(tab.gr_m / 1000, tab.h_m / 1000, tab.feasible.T.astype(float), levels=[0.5],
                   colors="tab:red", linewidths=1.2)
        ax.plot([], [], color="tab:red", label="flyout limit (guidance time, minimum speed)")
    # against a target receding (radially, level) at RECEDING_M_S: where it may be at launch
    vm = system.nominal("missile_speed_m_s")
    rec = np.zeros(G.shape, dtype=float)
    for i in range(G.shape[0]):
        for k in range(G.shape[1]):
            tau, v, conv = predicted_intercept_nb(G[i, k], 0.0, H[i, k], RECEDING_M_S, 0.0, 0.0, tab.tof_s,
                                                  tab.speed_m_s, tab.gr_m[1], tab.h_m[1], vm)
            pip_r = np.hypot(G[i, k] + RECEDING_M_S * tau, H[i, k]) if conv else np.inf
            rec[i, k] = float(conv and tau <= tab.max_time_s and v >= tab.min_speed_m_s and pip_r <= r_cap
                              and r_min <= pip_r and h_min <= H[i, k] <= h_cap)
    if rec.any():
        ax.contour(tab.gr_m / 1000, tab.h_m / 1000, rec.T, levels=[0.5], colors="tab:orange", linewidths=1.2)
        ax.plot([], [], color="tab:orange", label=f"launch limit, target receding at {RECEDING_M_S:g} m/s")
    a = np.linspace(0, np.pi / 2, 200)
    ax.plot(r_cap / 1000 * np.cos(a), r_cap / 1000 * np.sin(a), "k--", lw=1, label="public maximum range (slant)")
    ax.axhline(h_cap / 1000, color="k", ls=":", lw=1, label="public maximum altitude")
    _second_weapon_and_fire_control(ax, system, tab)
    ax.set_xlim(0, tab.gr_m[-1] / 1000)
    ax.set_ylim(0, tab.h_m[-1] / 1000)
    ax.set_xlabel("ground range [km]")
    ax.set_ylabel("height above the launcher [km]")
    kind = "point-mass flyout" if has_flyout(system) else "constant-speed projectile (no flyout figures)"
    ax.set_title(f"{system.display_name}: envelope against a slow target ({kind})", fontsize=10)
    ax.legend(loc="upper right", fontsize=8)
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _second_weapon_and_fire_control(ax, system: System, tab) -> None:
    """Overlay a gun-missile unit's gun envelope (its effective slant range; iadsim.engine.mixed) and the
    fire-control radar's limits (tracking range, the cone of silence above its highest elevation;
    iadsim.catalog.firecontrol) where the system has them."""
    from iadsim.catalog.firecontrol import fire_control_limits
    from iadsim.engine.mixed import is_gun_missile

    a = np.linspace(0, np.pi / 2, 200)
    if is_gun_missile(system):
        rg = system.nominal("gun_effective_range_km")
        ax.fill(np.r_[0, rg * np.cos(a)], np.r_[0, rg * np.sin(a)], color="tab:purple", alpha=0.25,
                label=f"guns (effective slant range {rg:g} km)")
    r_fc, _lo, hi = fire_control_limits(system)
    top = float(np.hypot(tab.gr_m[-1], tab.h_m[-1]))
    if hi < np.pi / 2:
        ax.plot([0, top / 1000 * np.cos(hi)], [0, top / 1000 * np.sin(hi)], color="tab:gray", lw=1,
                label=f"cone of silence above {np.degrees(hi):.0f} deg (fire-control radar)")
    if np.isfinite(r_fc):
        ax.plot(r_fc / 1000 * np.cos(a), r_fc / 1000 * np.sin(a), color="tab:gray", ls="-.", lw=1,
                label="fire-control radar range")
