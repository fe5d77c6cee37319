"""The shipped heads' training script: labels from the VADER ratings files."""
import numpy as np
import pytest

from scripts.train_default_head import binarise, rater_shares, read_snippets


def write_ratings(folder, rows):
    truth = "\n".join(f"{i}\t{np.mean(votes):.6f}\t{text}" for i, (text, votes) in enumerate(rows, start=1))
    raw = "\n".join(f"{i}\t{np.mean(votes):.6f}\t{np.std(votes):.5f}\t{votes}" for i, (_, votes) in enumerate(rows, start=1))
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
    from scripts.train_default_head import blend_grid

    y = np.array([1, 1, 0, 0])
    own = np.array([[.4, .6], [.45, .55], [.6, .4], [.56, .44]])
    other = np.array([[.05, .95], [.05, .95], [.95, .05], [.35, .65]])
    result = blend_grid([(0.9, own), (0.1, other)], y)
    losses = [row["log_loss"] for row in result["grid"]]
    assert losses == sorted(losses, reverse=True) and result["grid"][-1]["accuracy"] == 0.75
    assert result["chosen"] == 0.25
