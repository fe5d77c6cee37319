"""How a caption is asked for: the decoding strategy, the number of candidates and the
other knobs of a captioner (`CaptionOptions`), with their limits and checks. Cheap to
import: the captioner backend takes its list of strategies from here."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from model_zoo.core.errors import InputError

STRATEGIES = ("greedy", "beam", "nucleus")  # how the captioner decodes (backends.captioner)
MAX_CANDIDATES = 10
MAX_NEW_TOKENS = 100


@dataclass(frozen=True)
class CaptionOptions:
    strategy: str = "beam"  # greedy | beam | nucleus
    num_candidates: int = 3
    max_new_tokens: int = 30
    num_beams: int = 3
    top_p: float = 0.9
    temperature: float = 1.0
    prompt: str = ""  # conditional captioning: the caption continues this text
    rerank: bool = True  # rerank candidates with the image engine (CLIP, else the label bridge)

    def validated(self) -> "CaptionOptions":
        """The same options, checked; an InputError says which value is wrong."""
        if self.strategy not in STRATEGIES:
            raise InputError(f"Decoding must be one of {', '.join(STRATEGIES)} (got '{self.strategy}').")
        check_range("Number of candidates", self.num_candidates, 1, MAX_CANDIDATES)
        check_range("Maximum length", self.max_new_tokens, 1, MAX_NEW_TOKENS)
        check_range("Beams", self.num_beams, 1, 16)
        check_range("top-p", self.top_p, 0.01, 1.0)
        check_range("Temperature", self.temperature, 0.05, 5.0)
        if len(self.prompt) > 200:
            raise InputError("The prompt is too long: keep it under 200 characters.")
        candidates = 1 if self.strategy == "greedy" else int(self.num_candidates)
        return replace(self, num_candidates=candidates, max_new_tokens=int(self.max_new_tokens),
                       num_beams=int(self.num_beams), prompt=self.prompt.strip())

    def generate_kwargs(self) -> dict[str, Any]:
        kwargs = asdict(self)
        kwargs.pop("rerank")
        return kwargs

    def describe(self) -> str:
        how = {"greedy": "greedy", "beam": f"beam search ({max(self.num_beams, self.num_candidates)} beams)",
               "nucleus": f"nucleus sampling (top-p {self.top_p}, temperature {self.temperature})"}[self.strategy]
        return f"{how}, up to {self.max_new_tokens} tokens" + (f", prompt '{self.prompt}'" if self.prompt else "")


def check_range(name: str, value: float, low: float, high: float) -> None:
    if not isinstance(value, (int, float)) or not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high} (got {value!r}).")
