"""The WordNet hierarchy above ImageNet's classes, as shipped in assets/vision: related
classes share the kind people name (chameleon and agama are lizards), a typed plural finds
that kind, probability mass sums up the DAG. And when WordNet (Debian wordnet-base) and
nltk are here, scripts/vision/ship_imagenet_hierarchy.py rebuilds exactly the shipped content."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from model_zoo.vision.efficientnet_backend import imagenet_labels
from model_zoo.vision.recognition.wordnet import DEFAULT_PATH, ROOT, Kind, load_hierarchy


@pytest.fixture(scope="module")
def hierarchy():
    return load_hierarchy()


@pytest.fixture(scope="module")
def labels() -> list[str]:
    return imagenet_labels()


def test_the_shipped_file_is_small_and_holds_1000_classes(hierarchy):
    assert DEFAULT_PATH.stat().st_size < 500_000
    assert len(hierarchy.classes) == 1000 == len(set(hierarchy.classes))
    assert hierarchy.classes[0] == "n01440764"  # tench: timm's / the standard class order
    assert hierarchy.source.startswith("WordNet 3.0 ")


def test_a_class_node_holds_just_itself(hierarchy):
    for index in range(1000):
        node = hierarchy.class_node(index)
        assert node.classes == (index,) and node.wnid == hierarchy.classes[index]
        assert node.name == node.names[0]


def test_chameleon_and_agama_are_lizards(hierarchy, labels):
    chameleon, agama = labels.index("chameleon"), labels.index("agama")
    lizard = next(k for k in hierarchy.ancestors(chameleon) if k.name == "lizard")
    assert lizard in hierarchy.ancestors(agama)
    assert {chameleon, agama} <= set(lizard.classes) and lizard.classes == tuple(sorted(lizard.classes))
    assert lizard.count > 0  # people say "lizard"
    assert hierarchy.kinds_named("lizards")[0] == lizard
    assert hierarchy.kinds_named("A Lizard")[0] == lizard


def test_ancestors_run_from_specific_to_entity(hierarchy, labels):
    chain = hierarchy.ancestors(labels.index("chameleon"))
    depths = [k.depth for k in chain]
    assert depths == sorted(depths, reverse=True)
    assert chain[-1].wnid == ROOT and chain[-1].name == "entity"
    assert hierarchy.class_node(labels.index("chameleon")) not in chain
    assert all(isinstance(k, Kind) for k in chain)


def test_typed_names_find_kinds_with_most_classes_first(hierarchy):
    dogs = hierarchy.kinds_named("Dogs")
    assert dogs and dogs[0].name == "dog" and len(dogs[0].classes) > 100
    sizes = [len(k.classes) for k in hierarchy.kinds_named("cats")]
    assert sizes == sorted(sizes, reverse=True)
    assert hierarchy.kinds_named("the boxes")[0].name == "box"
    assert hierarchy.kinds_named("no such thing at all") == []


def test_kind_mass_of_a_one_hot_is_one_on_every_ancestor(hierarchy, labels):
    index = labels.index("chameleon")
    one_hot = np.zeros(1000)
    one_hot[index] = 1.0
    mass = hierarchy.kind_mass(one_hot)
    assert mass.shape == (len(hierarchy.kinds),)
    row = {k.wnid: r for r, k in enumerate(hierarchy.kinds)}
    above = {k.wnid for k in hierarchy.ancestors(index)} | {hierarchy.classes[index]}
    assert all(mass[row[w]] == 1.0 for w in above)
    assert mass.sum() == len(above)  # and 0 elsewhere


def test_kind_mass_sums_over_entity_and_takes_batches(hierarchy):
    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(1000), size=3)
    mass = hierarchy.kind_mass(probabilities)
    entity = [r for r, k in enumerate(hierarchy.kinds) if k.wnid == ROOT][0]
    assert mass.shape == (3, len(hierarchy.kinds))
    np.testing.assert_allclose(mass[:, entity], 1.0)
    for r, kind in enumerate(hierarchy.kinds[:50]):
        np.testing.assert_allclose(mass[:, r], probabilities[:, list(kind.classes)].sum(axis=1))
    with pytest.raises(ValueError):
        hierarchy.kind_mass(np.ones(10))


def test_every_parent_exists_and_entity_is_the_root(hierarchy):
    data = json.loads(DEFAULT_PATH.read_text())
    for wnid, node in data["nodes"].items():
        assert all(p in data["nodes"] for p in node["parents"]), wnid
        assert node["parents"] or wnid == ROOT
    assert hierarchy.node(ROOT).depth == 0 and len(hierarchy.node(ROOT).classes) == 1000


def test_the_script_rebuilds_the_shipped_content():
    if not Path("/usr/share/wordnet/data.noun").is_file():
        pytest.skip("WordNet is not installed: apt-get install wordnet-base")
    pytest.importorskip("nltk")
    from scripts.vision.ship_imagenet_hierarchy import build, encode, name_match_fraction

    built = build()
    shipped = json.loads(DEFAULT_PATH.read_text())
    assert built["classes"] == shipped["classes"]
    assert built["nodes"] == shipped["nodes"]
    assert built["source"].split(" (")[0] == shipped["source"].split(" (")[0] == "WordNet 3.0"
    if built["source"] == shipped["source"]:
        assert encode(built) == DEFAULT_PATH.read_bytes()
    assert name_match_fraction(built["classes"], built["nodes"], imagenet_labels()) > 0.9
