import pytest

from bftbio.tasks import PerturbationSplit, parse_condition, perturbation_split


def genes_in(conditions):
    return {g for c in conditions for g in parse_condition(c)}


def singles_in(conditions):
    return {parse_condition(c)[0] for c in conditions if len(parse_condition(c)) == 1}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_simulation_split_holds_out_genes_and_counts_seen_genes(planted, seed):
    split = perturbation_split(planted["prepared"], mode="simulation", seed=seed)
    everything = split.train + split.val + split.test
    assert len(everything) == len(set(everything)) == 45 and "ctrl" not in everything
    seen = singles_in(split.train)
    for condition in split.test:
        genes = parse_condition(condition)
        if len(genes) == 1:
            assert split.subgroup[condition] == "unseen_single"
            assert genes[0] not in genes_in(split.train)  # no test gene in training at all
        else:
            assert split.subgroup[condition] == f"combo_seen{sum(g in seen for g in genes)}"
    assert genes_in(split.train) <= seen  # training combos only combine genes seen alone
    assert split.to_frame()["split"].value_counts().sum() == 45
    again = perturbation_split(planted["prepared"], mode="simulation", seed=seed)
    assert (again.train, again.test) == (split.train, split.test)


def test_simulation_split_fractions():
    singles = [f"G{i}+ctrl" for i in range(40)]
    combos = [f"G{i}+G{i + 1}" for i in range(0, 40, 2)]
    split = perturbation_split(["ctrl"] + singles + combos, mode="simulation", seed=0, val_fraction=0)
    unseen = [c for c in split.test if split.subgroup[c] == "unseen_single"]
    assert len(unseen) == 10  # 25% of 40 genes held out
    assert split.val == []
    other = perturbation_split(["ctrl"] + singles + combos, mode="simulation", seed=5, val_fraction=0)
    assert other.test != split.test


def test_single_and_combo_splits():
    singles = [f"G{i}+ctrl" for i in range(20)]
    combos = [f"G{i}+G{i + 1}" for i in range(0, 20, 2)]
    single = perturbation_split(singles + combos, mode="single", seed=0, test_fraction=0.2, val_fraction=0)
    assert len(single.test) == 4 and all(len(parse_condition(c)) == 1 for c in single.test)
    assert {single.subgroup[c] for c in single.test} == {"unseen_single"}
    test_genes = genes_in(single.test)
    assert all(not (set(parse_condition(c)) & test_genes) for c in single.train)
    assert sorted(single.excluded) == sorted(c for c in combos if set(parse_condition(c)) & test_genes)
    combo = perturbation_split(singles + combos, mode="combo", seed=0, test_fraction=0.3, val_fraction=0)
    assert len(combo.test) == 3 and all(len(parse_condition(c)) == 2 for c in combo.test)
    assert {combo.subgroup[c] for c in combo.test} == {"combo_seen2"}
    with pytest.raises(ValueError, match="needs combinations"):
        perturbation_split(singles, mode="combo")
    with pytest.raises(ValueError, match="mode must be"):
        perturbation_split(singles, mode="random")


def test_a_given_split_gears_style():
    conditions = ["ctrl", "A+ctrl", "B+ctrl", "C+ctrl", "A+B", "B+C"]
    split = perturbation_split(conditions, mode={"train": ["ctrl", "A+ctrl", "B+ctrl", "A+B"], "test": ["C+ctrl",
                                                                                                    "B+C"]})
    assert split.train == ["A+ctrl", "B+ctrl", "A+B"] and split.val == []
    assert split.subgroup["C+ctrl"] == "unseen_single" and split.subgroup["B+C"] == "combo_seen1"
    assert split.mode == "given" and split["test"] == ["C+ctrl", "B+C"]
    with pytest.raises(ValueError, match=r"both 'train' and 'test': 'A\+ctrl'"):
        perturbation_split(conditions, mode={"train": ["A+ctrl"], "test": ["A+ctrl"]})
    with pytest.warns(UserWarning, match=r"1 conditions that are not in the data.*'D\+ctrl'"):
        perturbation_split(conditions, mode={"train": ["A+ctrl", "D+ctrl"], "test": ["C+ctrl"]})
    with pytest.raises(KeyError, match="'train', 'val' and 'test'"):
        split["validation"]


def test_split_object_behaves_like_gears_set2conditions():
    split = PerturbationSplit(train=["A+ctrl"], val=[], test=["B+ctrl"], subgroup={"B+ctrl": "unseen_single"})
    assert split["train"] == ["A+ctrl"]
    assert split.to_frame().to_dict("list") == {"condition": ["A+ctrl", "B+ctrl"], "split": ["train", "test"],
                                                "subgroup": [None, "unseen_single"]}
