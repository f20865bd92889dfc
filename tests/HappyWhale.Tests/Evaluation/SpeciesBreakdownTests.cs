using HappyWhale.Evaluation;
using HappyWhale.Data;

namespace HappyWhale.Tests.Evaluation;

public class SpeciesBreakdownTests
{
    [Fact]
    public void Each_query_counts_for_the_cleaned_species_of_its_true_individual()
    {
        string[][] predictions =
        [
            ["a", "b", "c", "d", "e"],                         // label a: rank 1 -> 1
            ["x", "b", "c", "d", "e"],                         // label b: rank 2 -> 1/2
            ["x", "y", "new_individual", "d", "e"],            // label new_individual: rank 3 -> 1/3
            ["x", "y", "z", "w", "v"],                         // label q: absent -> 0
            ["k", "x", "y", "z", "w"],                         // label k: rank 1 -> 1
        ];
        string[] labels = ["a", "b", NewIndividual.Id, "q", "k"];
        // Typo variants pool with their clean names: bottlenose_dolpin -> bottlenose_dolphin, globis -> short_finned_pilot_whale.
        string[] species = ["bottlenose_dolphin", "bottlenose_dolpin", "beluga", "globis", "short_finned_pilot_whale"];

        var result = SpeciesBreakdown.MapAt5BySpecies(predictions, labels, species);

        Assert.Equal(["beluga_whale", "bottlenose_dolphin", "short_finned_pilot_whale"], result.Keys);
        Assert.Equal(0.75, result["bottlenose_dolphin"], 12);
        Assert.Equal(1.0 / 3, result["beluga_whale"], 12);
        Assert.Equal(0.5, result["short_finned_pilot_whale"], 12);
        // Weighted by queries, the species scores give back the overall MAP@5.
        double overall = MapAt5.Score(predictions, labels);
        Assert.Equal((0.75 * 2 + 1.0 / 3 + 0.5 * 2) / 5, overall, 12);
    }

    [Fact]
    public void Mismatched_lengths_are_refused()
    {
        Assert.Throws<ArgumentException>(() => SpeciesBreakdown.MapAt5BySpecies([["a"]], ["a", "b"], ["s", "s"]));
    }
}
