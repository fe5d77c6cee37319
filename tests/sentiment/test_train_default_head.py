"""The shipped heads' training script: labels from the VADER ratings files, the four
domains and their splits, the domain mix."""
import numpy as np
import pytest

from scripts.sentiment.vader_data import DOMAIN_FILES, binarise, load_corpus, rater_shares, read_snippets


def write_ratings(folder, rows):
    truth = "\n".join(f"{i}\t{np.mean(votes):.6f}\t{text}" for i, (text, votes) in enumerate(rows, start=1))
    raw = "\n".join(
        f"{i}\t{np.mean(votes):.6f}\t{np.std(votes):.5f}\t{votes}" for i, (_, votes) in enumerate(rows, start=1)
    )
    (folder / "movieReviewSnippets_GroundTruth.txt").write_text(truth + "\n")
    (folder / "movieReviewSnippets_anonDataRatings.txt").write_text(raw + "\n")


def test_soft_labels_are_the_share_of_raters_reading_positive(tmp_path):
    write_ratings(tmp_path, [("lovely", [3, 0, -1, 2]), ("awful", [-3, -2, -4, -1]), ("meh", [1, -1, 0, 0])])
    texts, ratings = read_snippets(tmp_path / "movieReviewSnippets_GroundTruth.txt")
    assert texts == ["lovely", "awful", "meh"]
    assert np.allclose(rater_shares(tmp_path, ratings), [0.625, 0.0, 0.5])  # a 0 counts half
    labels, keep = binarise(ratings)
    assert labels.tolist() == [1, 0, 0] and keep.tolist() == [True, True, False]  # exact zero dropped


def test_ratings_files_that_do_not_line_up_are_refused(tmp_path):
    write_ratings(tmp_path, [("lovely", [3, 2]), ("awful", [-3, -2])])
    _, ratings = read_snippets(tmp_path / "movieReviewSnippets_GroundTruth.txt")
    with pytest.raises(ValueError, match="line up"):
        rater_shares(tmp_path, ratings[::-1])


def test_blend_weight_rule_takes_the_lowest_loss_that_keeps_accuracy():
    """Blending in the confident second head lowers the log-loss all the way to 0.5, but
    from 1/3 on it flips the last row: the rule stops at 0.25."""
    from scripts.sentiment.train_default_head import blend_grid

    y = np.array([1, 1, 0, 0])
    own = np.array([[.4, .6], [.45, .55], [.6, .4], [.56, .44]])
    other = np.array([[.05, .95], [.05, .95], [.95, .05], [.35, .65]])
    result = blend_grid([(0.9, own), (0.1, other)], y)
    losses = [row["log_loss"] for row in result["grid"]]
    assert losses == sorted(losses, reverse=True) and result["grid"][-1]["accuracy"] == 0.75
    assert result["chosen"] == 0.25


def write_domain(folder, domain, rows):
    """rows: (text, mean rating); a movie file also gets per-rater votes that line up."""
    name = DOMAIN_FILES[domain]
    (folder / f"{name}_GroundTruth.txt").write_text(
        "\n".join(f"{i}\t{rating:.6f}\t{text}" for i, (text, rating) in enumerate(rows, start=1)) + "\n")
    if domain == "movie":
        (folder / f"{name}_anonDataRatings.txt").write_text("\n".join(
            f"{i}\t{rating:.6f}\t0.1\t{[rating, rating]}" for i, (_, rating) in enumerate(rows, start=1)) + "\n")


def four_domains(folder, n=40):
    rng = np.random.default_rng(0)
    for domain in DOMAIN_FILES:
        rows = [(f"{domain} sentence {i}", float(rng.choice([-2.5, -1.0, 1.0, 2.5]))) for i in range(n)]
        if domain != "movie":
            rows += [("movie sentence 3", 1.0), (f"{domain.upper()}   sentence 5", -1.0),  # repeats
                     (f"{domain} &amp; zero", 0.0)]  # an exact zero: no label
        write_domain(folder, domain, rows)


def test_every_domain_is_split_alike_and_repeats_are_kept_once(tmp_path):
    four_domains(tmp_path)
    corpus = load_corpus(tmp_path)
    assert corpus.texts[:40] == [f"movie sentence {i}" for i in range(40)]  # movie rows first, as in the file
    assert corpus.dropped_duplicates == {"movie": 0, "tweets": 2, "amazon": 2, "nyt": 2}
    assert corpus.texts.count("movie sentence 3") == 1 and "tweets & zero" in corpus.texts  # entities decoded
    everything = [corpus.rows(part) for part in ("train", "val", "test")]
    assert sum(map(len, everything)) == len(set(np.concatenate(everything)))  # disjoint
    assert corpus.texts.index("tweets & zero") not in set(np.concatenate(everything))  # zeros left out
    for domain, (train, val, test) in corpus.splits.items():
        d = corpus.domains.index(domain)
        assert (corpus.domain[np.concatenate([train, val, test])] == d).all()
        assert (len(train), len(val), len(test)) == (30, 4, 6)  # 75/10/15 of 40 labelled rows
        assert set(corpus.y[test]) == {0, 1}  # stratified


def test_the_movie_split_does_not_depend_on_the_other_domains(tmp_path):
    four_domains(tmp_path)
    alone = load_corpus(tmp_path, ("movie",))
    together = load_corpus(tmp_path)
    for a, b in zip(alone.splits["movie"], together.splits["movie"]):
        assert a.tolist() == b.tolist()


@pytest.mark.parametrize("alpha, shares", [(1.0, [0.5, 0.25, 0.25]), (0.0, [1 / 3] * 3), (0.5, None)])
def test_domain_weights_set_each_domains_share_of_the_loss(alpha, shares):
    from scripts.sentiment.vader_data import Corpus

    domain = np.array([0] * 50 + [1] * 25 + [2] * 25)
    corpus = Corpus([], np.zeros(100), np.zeros(100), np.zeros(100), domain, ("movie", "tweets", "nyt"))
    rows = np.arange(100)
    weights = corpus.row_weights(alpha, rows)
    assert weights.mean() == pytest.approx(1.0)
    got = [weights[domain == d].sum() / 100 for d in range(3)]
    expected = shares or list(np.sqrt([50, 25, 25]) / np.sqrt([50, 25, 25]).sum())
    assert got == pytest.approx(expected)


def test_a_warm_start_takes_the_saved_members_weights_and_leaves_only_the_new_output_fresh(
        tiny_text_encoder_dir, tmp_path):
    import torch

    from model_zoo.fusion.modules import HeadConfig
    from model_zoo.fusion.heads import SentimentModel, top_layer_copies
    from model_zoo.core.manager import ManagerConfig, ModelManager
    from model_zoo.fusion.training import load_head_files
    from scripts.sentiment.train_default_head import warm_start
    from model_zoo.testing.sentiment import save_tiny_head

    manager = ModelManager(ManagerConfig(device="cpu", cache_dir=tmp_path, offline=True,
                                         overrides={"minilm": str(tiny_text_encoder_dir)}))
    with manager.use("minilm") as encoder:
        dims = {"text": encoder.dim, "lexicon": 4}
        saved = save_tiny_head(tmp_path / "old", encoder, dims, tuned_layers=1, members=2)
        cfg = HeadConfig(dims, ["negative", "positive"], "gated", hidden=16, intensity=True)
        model = SentimentModel(cfg, top_layer_copies(encoder, 1))
        fresh = model.fusion.regressor.weight.detach().clone()
        warm_start(model, saved, member=1)
        _, tensors = load_head_files(saved)
        for name, value in model.state_dict().items():
            if name.startswith("fusion.regressor."):
                continue
            assert torch.equal(value, tensors[f"members.1.{name}"].float()), name
        assert torch.equal(model.fusion.regressor.weight, fresh)
        other = SentimentModel(
            HeadConfig(dims, ["negative", "positive"], "gated", hidden=8), top_layer_copies(encoder, 1)
        )
        with pytest.raises(ValueError, match="does not fit this recipe"):
            warm_start(other, saved, member=0)
