"""The confidence grade of a public figure, by a written rule on the kind of its source.

A figure's grade in a catalog file is the author's judgement; the grade iadsim uses is that
judgement capped by the kind of source it rests on (:data:`RULE`), so a state news agency or a
user-edited page is never graded above what that kind of source can support:

==================  =========================================================  ==========
kind                what it is                                                 at most
==================  =========================================================  ==========
official            a government, parliament or armed forces' own document      high
manufacturer        the maker's or exporter's own data sheet or release        high
specialist press    defence trade press and specialist analysis sites         medium
general press       newspapers, broadcasters and news sites                   medium
state media         outlets owned or directed by a state party to the subject  low
user-generated      wikis, forums, code repositories, blogs                    low
unclassified        a web page whose kind is not on the list                    low
unsourced           no source given (a modelling estimate)                     estimate
==================  =========================================================  ==========

The list of domains is in :data:`DOMAINS`; a figure whose source names no URL and is an iadsim
estimate is *unsourced*. Add a domain here (with its kind) rather than grading by hand.
"""

from __future__ import annotations

import re

GRADES = ("estimate", "low", "medium", "high")

#: kind of source -> the highest grade it can support
RULE: dict[str, str] = {
    "official": "high", "manufacturer": "high", "specialist press": "medium", "general press": "medium",
    "state media": "low", "user-generated": "low", "unclassified": "low", "unsourced": "estimate",
}

#: domain suffix -> kind of source (the longest matching suffix wins)
DOMAINS: dict[str, str] = {
    # official
    "mil.ru": "official", "mod.gov.ua": "official", "defense.gov": "official", "army.mil": "official",
    "af.mil": "official", "navy.mil": "official", "gov.uk": "official", "bundeswehr.de": "official",
    "congress.gov": "official", "gao.gov": "official", "crsreports.congress.gov": "official",
    "nato.int": "official", "mod.gov.il": "official", "tradoc.army.mil": "official",
    # manufacturers and exporters
    "almaz-antey.ru": "manufacturer", "kbptula.ru": "manufacturer", "rtx.com": "manufacturer",
    "raytheon.com": "manufacturer", "diehl.com": "manufacturer", "kongsberg.com": "manufacturer",
    "rheinmetall.com": "manufacturer", "roe.ru": "manufacturer", "lockheedmartin.com": "manufacturer",
    "saab.com": "manufacturer", "mbda-systems.com": "manufacturer", "rafael.co.il": "manufacturer",
    "generalatomics.com": "manufacturer", "ga-asi.com": "manufacturer", "baykartech.com": "manufacturer",
    # specialist press and analysis
    "janes.com": "specialist press", "armyrecognition.com": "specialist press",
    "defensenews.com": "specialist press", "army-technology.com": "specialist press",
    "airforce-technology.com": "specialist press", "naval-technology.com": "specialist press",
    "thedrive.com": "specialist press", "twz.com": "specialist press", "c4defence.com": "specialist press",
    "defenseworld.net": "specialist press", "missilethreat.csis.org": "specialist press",
    "csis.org": "specialist press", "iiss.org": "specialist press", "rusi.org": "specialist press",
    "globalsecurity.org": "specialist press", "fas.org": "specialist press", "ausairpower.net": "specialist press",
    "armscontrol.org": "specialist press", "oryxspioenkop.com": "specialist press",
    "militarytoday.com": "specialist press", "army-guide.com": "specialist press",
    "defense-update.com": "specialist press", "breakingdefense.com": "specialist press",
    "flightglobal.com": "specialist press", "aviationweek.com": "specialist press",
    "warontherocks.com": "specialist press", "odin.tradoc.army.mil": "specialist press",
    "bmpd.livejournal.com": "specialist press", "topcor.ru": "specialist press",
    "defence-blog.com": "specialist press", "militaryfactory.com": "specialist press",
    "thedefensepost.com": "specialist press", "idrw.org": "specialist press",
    "missiledefenseadvocacy.org": "specialist press", "jejaktapak.com": "specialist press",
    # state media (outlets directed by a state that is party to the subject)
    "sputniknews.com": "state media", "sputniknews.africa": "state media", "sputniknews.in": "state media",
    "sputnik.by": "state media", "tass.com": "state media", "tass.ru": "state media", "rt.com": "state media",
    "ria.ru": "state media", "rg.ru": "state media", "tvzvezda.ru": "state media", "cctv.com": "state media",
    "xinhuanet.com": "state media", "globaltimes.cn": "state media", "presstv.ir": "state media",
    "irna.ir": "state media", "tasnimnews.com": "state media", "farsnews.ir": "state media",
    "kcna.kp": "state media", "peopledaily.com.cn": "state media", "sarabic.ae": "state media", "manartv.com.lb": "state media", "almanar.com.lb": "state media",
    # user-generated
    "github.com": "user-generated", "wikipedia.org": "user-generated", "reddit.com": "user-generated",
    "livejournal.com": "user-generated", "medium.com": "user-generated", "blogspot.com": "user-generated",
    "quora.com": "user-generated", "livedoor.jp": "user-generated",
    # general press
    "reuters.com": "general press", "apnews.com": "general press", "bbc.co.uk": "general press",
    "bbc.com": "general press", "nytimes.com": "general press", "washingtonpost.com": "general press",
    "theguardian.com": "general press", "zeit.de": "general press", "spiegel.de": "general press",
    "tagesschau.de": "general press", "derstandard.at": "general press", "lemonde.fr": "general press",
    "cbsnews.com": "general press", "cnn.com": "general press", "euronews.com": "general press",
    "euronews.ro": "general press", "hotnews.ro": "general press", "nocutnews.co.kr": "general press",
    "losandes.com.ar": "general press", "suara.com": "general press", "kukinews.com": "general press",
    "insider.com": "general press", "businessinsider.com": "general press", "tsn.ua": "general press",
    "babel.ua": "general press", "fanpage.it": "general press", "nepszava.hu": "general press",
    "azuzlet.hu": "general press", "peru.com": "general press", "tech.wp.pl": "general press",
    "webtekno.com": "general press", "worldtribune.com": "general press", "uawire.org": "general press",
    "howstuffworks.com": "general press", "kyivindependent.com": "general press", "pravda.com.ua": "general press",
    "ukrinform.net": "general press", "ukrinform.ua": "general press", "aljazeera.com": "general press",
    "wdhn.com": "general press", "handelsblatt.com": "general press", "wiwo.de": "general press",
    "gazeta.ru": "general press", "biobiochile.cl": "general press", "interia.pl": "general press",
    "ndr.de": "general press", "radionz.co.nz": "general press", "news.yahoo.com": "general press",
    "taiwannews.com.tw": "general press", "niezalezna.pl": "general press", "rferl.org": "general press",
    "exxpress.at": "general press", "baomoi.com": "general press", "about.com": "general press",
    "domain-b.com": "general press", "taiwanwire.com": "general press",
    "ft.com": "general press", "wsj.com": "general press", "economist.com": "general press",
    "nzz.ch": "general press", "faz.net": "general press", "lefigaro.fr": "general press",
}

_URL = re.compile(r"https?://([^/\s\"'>)]+)", re.IGNORECASE)


def source_kind(source: str, stated: str | None = None) -> str:
    """The kind of a figure's source (a key of :data:`RULE`), from the first URL it names.

    A source with no URL is *unsourced* when the figure is an estimate, else *unclassified*."""
    m = _URL.search(source or "")
    if m is None:
        return "unsourced" if (stated == "estimate" or "estimate" in (source or "").lower()[:40]) else "unclassified"
    host = m.group(1).lower().split("@")[-1].split(":")[0]
    best, best_len = "unclassified", -1
    for dom, kind in DOMAINS.items():
        if (host == dom or host.endswith("." + dom)) and len(dom) > best_len:
            best, best_len = kind, len(dom)
    return best


def capped_grade(stated: str, kind: str) -> str:
    """The stated grade, no higher than what the kind of source supports (an estimate stays one)."""
    if stated == "estimate":
        return "estimate"
    cap = RULE[kind]
    if cap == "estimate":  # a grade above 'estimate' with no source at all: the lowest real grade
        cap = "low"
    return stated if GRADES.index(stated) <= GRADES.index(cap) else cap
