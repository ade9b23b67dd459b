"""make bench's verdicts, from made-up runs: a gap within the runs' noise is
no separation, a cell measured while other programs were busy is marked,
UNP's factor of 10 holds only when every pairing of runs shows it, and a
run saved to results.json reads back the same. No server runs here."""

from bench.measure import Cell
from bench.rows import Row
from bench.stats import METRICS, Results, Spread, separated
from bench.tables import summary_row
from bench.verdicts import cheaper_sentence, pool_sentence

ROWS = [Row("floor-epoll", "floor", "event-loop", "the loop"),
        Row("floor-fork", "floor", "processes", "a fork per client"),
        Row("floor-fork-pool", "floor", "process-pool", "a pool")]


def made_up(costs, other_load=0.0):
    """Results whose cells (e) cost these µs per connection, run by run."""
    results = Results(ROWS, {})
    for name, runs in costs.items():
        for us in runs:
            results.add(name, "e", Cell(server_us=us, other_load=other_load))
    return results


def test_a_gap_narrower_than_the_runs_spread_is_no_separation():
    assert not separated(Spread(7.4, 6.8, 7.5, 3), Spread(7.9, 7.6, 8.3, 3))


def test_ranges_apart_by_more_than_their_width_are_a_separation():
    assert separated(Spread(59.0, 58.5, 60.9, 3), Spread(160, 147, 161, 3))


def test_one_run_separates_nothing():
    assert not separated(Spread(1, 1, 1, 1), Spread(2, 2, 2, 1))


def test_a_cell_measured_while_other_programs_were_busy_is_marked():
    quiet = made_up({"floor-fork": [150, 151, 152]}, other_load=0.02)
    busy = made_up({"floor-fork": [150, 151, 152]}, other_load=0.20)
    columns = ["e-cpu"]
    assert not summary_row(quiet, ROWS[1], columns)[1].endswith("!")
    assert summary_row(busy, ROWS[1], columns)[1].endswith("!")


def test_unp_factor_holds_when_the_least_pairing_reaches_10():
    results = made_up({"floor-epoll": [14, 14, 14], "floor-fork": [150, 151, 152],
                       "floor-fork-pool": [22, 23, 24]})
    assert "**it holds**" in pool_sentence(results, "floor-fork",
                                           "floor-fork-pool", "claim")


def test_unp_factor_is_not_judged_when_only_the_medians_reach_10():
    results = made_up({"floor-epoll": [14, 14, 14], "floor-fork": [120, 151, 152],
                       "floor-fork-pool": [20, 27, 29]})
    sentence = pool_sentence(results, "floor-fork", "floor-fork-pool", "claim")
    assert "**the runs cannot tell**" in sentence


def test_a_verdict_gives_the_other_load_of_each_cell_it_uses():
    results = made_up({"floor-epoll": [14, 14, 15], "floor-fork": [150, 151, 152]},
                      other_load=0.2)
    sentence = cheaper_sentence(results, "claim", "floor-epoll", "floor-fork",
                                "e-cpu")
    assert "floor-epoll (e) 20 %" in sentence
    assert "floor-fork (e) 20 %" in sentence
    assert "Disturbed" in sentence


def test_a_run_saved_to_results_json_reads_back_the_same(tmp_path):
    results = made_up({"floor-fork": [150, 151, 152]}, other_load=0.03)
    results.save(tmp_path / "results.json")
    again = Results.load(tmp_path / "results.json")
    assert again.rows == results.rows
    assert (again.spread("floor-fork", METRICS["e-cpu"]) ==
            results.spread("floor-fork", METRICS["e-cpu"]))
    assert again.other_load("floor-fork", "e") == results.other_load("floor-fork", "e")
