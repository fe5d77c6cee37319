"""Write the WordNet hierarchy above ImageNet-1k's classes into assets/vision, so the app
can name a kind ("a lizard, probably an agama or a chameleon") when the classifier spreads
its probability over related classes, and map a typed word ("lizard") to all its classes:
`python -m scripts.vision.ship_imagenet_hierarchy`. The runtime (model_zoo/vision/recognition/wordnet.py)
reads only the JSON, so nltk and WordNet are needed here and in the test that rebuilds it.

WordNet 3.0 comes from Debian's `wordnet-base` (/usr/share/wordnet), read by nltk's
WordNetCorpusReader. That package lacks two files nltk opens: `lexnames` (a fixed list of
WordNet 3.0, written here) and `index.sense` (for sense keys, and for nltk's mapping of
another WordNet version onto this one, which the reader here skips: it is only for OMW).
nltk also reads only below its data path, so the files are copied into a temp folder that
is added to it. ImageNet's wnids in class order are timm's imagenet_synsets.txt."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from model_zoo.core.storage import atomic_write_bytes

WORDNET_DIR = Path("/usr/share/wordnet")
TARGET = Path(__file__).resolve().parents[2] / "assets" / "vision" / "imagenet-hierarchy.json"
MIN_NAME_MATCH = 0.9  # open_clip's cleaned names sharing a word with the synset's lemmas
MAX_BYTES = 500_000
_COPIED = ("cntlist.rev", "index.adj", "index.adv", "index.noun", "index.verb", "data.adj", "data.adv",
           "data.noun", "data.verb", "adj.exc", "adv.exc", "noun.exc", "verb.exc")
# WordNet 3.0's lexicographer files (lexnames(5WN)), in file-number order.
_LEXNAMES = ("adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
             "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
             "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
             "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
             "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
             "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
             "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl").split()
_POS_NUMBER = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}


def imagenet_wnids() -> list[str]:
    """timm's list of ImageNet-1k wnids in class-index order (read as a file: no timm import)."""
    import importlib.util

    spec = importlib.util.find_spec("timm")
    path = Path(spec.origin).parent / "data" / "_info" / "imagenet_synsets.txt"
    wnids = path.read_text().split()
    if len(wnids) != 1000 or len(set(wnids)) != 1000:
        raise RuntimeError(f"{path} holds {len(wnids)} wnids ({len(set(wnids))} distinct), expected 1000")
    return wnids


def debian_version(package: str = "wordnet-base") -> str:
    try:
        return subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown version"


def open_wordnet(folder: Path, root: Path = WORDNET_DIR):
    """nltk's reader over a copy of Debian's WordNet in `folder` (see the module docstring)."""
    import nltk
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    missing = [name for name in _COPIED if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{root} lacks {missing}: apt-get install wordnet-base")
    for name in _COPIED:
        shutil.copyfile(root / name, folder / name)
    (folder / "lexnames").write_text("".join(
        f"{i:02d}\t{name}\t{_POS_NUMBER[name.split('.')[0]]}\n" for i, name in enumerate(_LEXNAMES)))
    if str(folder) not in nltk.data.path:
        nltk.data.path.append(str(folder))

    class Reader(WordNetCorpusReader):
        def map_wn(self, version="wordnet"):
            return None  # would load nltk_data's 'wordnet' and index.sense, for OMW only

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": not needed
        return Reader(str(folder), None)


def wnid(synset) -> str:
    return f"n{synset.offset():08d}"


def node_entry(synset) -> dict:
    """Lemma names most frequent first (SemCor counts; ties keep WordNet's order)."""
    counted = [(lemma.count(), i, lemma.name().replace("_", " ")) for i, lemma in enumerate(synset.lemmas())]
    counted.sort(key=lambda c: (-c[0], c[1]))
    parents = synset.hypernyms() + synset.instance_hypernyms()
    return {"names": [name for _, _, name in counted], "count": counted[0][0],
            "parents": sorted({wnid(p) for p in parents})}


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def name_match_fraction(classes: list[str], nodes: dict, labels: list[str]) -> float:
    """How many of open_clip's cleaned names share a word with their synset's lemmas: a
    check that the two lists are in the same class order."""
    hits = sum(bool(words(label) & words(" ".join(nodes[w]["names"]))) for w, label in zip(classes, labels))
    return hits / len(classes)


def build(root: Path = WORDNET_DIR) -> dict:
    """The hierarchy as written to the JSON: every class synset and all its ancestors."""
    import nltk

    classes = imagenet_wnids()
    with tempfile.TemporaryDirectory() as folder:
        wn = open_wordnet(Path(folder), root)
        nodes: dict[str, dict] = {}
        todo = []
        for w in classes:
            if not re.fullmatch(r"n\d{8}", w):
                raise ValueError(f"{w!r} is not a noun wnid")
            synset = wn.synset_from_pos_and_offset("n", int(w[1:]))  # raises if it is no noun
            if wnid(synset) != w:
                raise ValueError(f"{w} reads back as {wnid(synset)}")
            todo.append(synset)
        while todo:
            synset = todo.pop()
            if wnid(synset) in nodes:
                continue
            nodes[wnid(synset)] = node_entry(synset)
            todo += synset.hypernyms() + synset.instance_hypernyms()
        nltk.data.path.remove(folder)  # the temp folder is going
    return {"source": f"WordNet 3.0 (Debian wordnet-base {debian_version()}) via nltk {nltk.__version__}",
            "classes": classes, "nodes": nodes}


def encode(hierarchy: dict) -> bytes:
    return json.dumps(hierarchy, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def main() -> int:
    from model_zoo.vision.efficientnet_backend import imagenet_labels

    hierarchy = build()
    fraction = name_match_fraction(hierarchy["classes"], hierarchy["nodes"], imagenet_labels())
    print(f"{fraction:.1%} of open_clip's class names share a word with their synset's lemmas")
    assert fraction >= MIN_NAME_MATCH, f"only {fraction:.1%}: are the class orders the same?"
    data = encode(hierarchy)
    assert len(data) < MAX_BYTES, f"{len(data)} bytes"
    atomic_write_bytes(TARGET, data)
    print(f"wrote {TARGET} ({len(hierarchy['nodes'])} nodes, {len(data):,} bytes); {hierarchy['source']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
