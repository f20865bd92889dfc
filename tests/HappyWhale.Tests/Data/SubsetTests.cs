using HappyWhale.Data;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using HappyWhale.Training;

namespace HappyWhale.Tests.Data;

public class SubsetTests
{
    static readonly DataSpec Base = new() { MinImagesPerId = 1, Folds = 2, Fold = 0, HoldoutIndividuals = 0, Seed = 1, CleanSpecies = true };

    // Individuals: w1 x5, w2 x3, w3 x3, d1 x2 (two written with a typo), d2 x1.
    static List<Sample> Samples() =>
    [
        .. Enumerable.Range(0, 5).Select(i => new Sample($"w1_{i}", "beluga_whale", "w1")),
        .. Enumerable.Range(0, 3).Select(i => new Sample($"w2_{i}", "beluga_whale", "w2")),
        .. Enumerable.Range(0, 3).Select(i => new Sample($"w3_{i}", "beluga_whale", "w3")),
        new Sample("d1_0", "bottlenose_dolpin", "d1"), new Sample("d1_1", "bottlenose_dolpin", "d1"),
        new Sample("d2_0", "bottlenose_dolphin", "d2"),
    ];

    static IEnumerable<string> Ids(IEnumerable<Sample> s) => s.Select(x => x.IndividualId).Distinct().Order();

    [Fact]
    public void Species_filter_uses_cleaned_names_and_rejects_unknown_ones()
    {
        var cleaned = SpeciesCleaner.Clean(Samples()).Samples;
        Assert.Equal(["d1", "d2"], Ids(RowSplit.Subset(cleaned, Base with { Species = ["bottlenose_dolphin"] })));
        Assert.Equal(6, RowSplit.Subset(cleaned, Base with { Species = [] }).Select(s => s.IndividualId).Distinct().Count() + 1);
        var e = Assert.Throws<UserException>(() => RowSplit.Subset(cleaned, Base with { Species = ["orca"] }));
        Assert.Contains("orca", e.Message);
        Assert.Contains("beluga", e.Message);
    }

    [Fact]
    public void Max_individuals_keeps_those_with_most_images_ties_by_id()
    {
        Assert.Equal(["w1", "w2"], Ids(RowSplit.Subset(Samples(), Base with { MaxIndividuals = 2 })));
        Assert.Equal(["d1", "w1", "w2", "w3"], Ids(RowSplit.Subset(Samples(), Base with { MaxIndividuals = 4 })));
        Assert.Equal(5, Ids(RowSplit.Subset(Samples(), Base with { MaxIndividuals = 0 })).Count());
        Assert.Equal(["w1", "w2", "w3"], Ids(RowSplit.Subset(Samples(), Base with { MinImagesPerId = 3 })));
    }

    static List<PreparedRow> Rows(IEnumerable<Sample> samples) =>
        samples.Select((s, i) => new PreparedRow(i, 0, i, s.Image, s.Species, s.IndividualId, "train")).ToList();

    [Fact]
    public void Duplicate_singletons_repeats_single_image_individuals_in_training()
    {
        var rows = Rows(Samples());
        var plain = RowSplit.Build(rows, Base);
        var doubled = RowSplit.Build(rows, Base with { DuplicateSingletons = true });
        int d2 = rows.Single(r => r.IndividualId == "d2").Row;
        Assert.Equal(1, plain.TrainRows.Count(r => r == d2));
        Assert.Equal(2, doubled.TrainRows.Count(r => r == d2));
        Assert.Equal(doubled.TrainRows.Count, doubled.TrainLabels.Count);
        // The species list is parallel to the rows (the species head indexes it by the same position).
        var speciesOfRow = rows.ToDictionary(r => r.Row, r => SpeciesCleaner.Clean([r.Sample]).Samples[0].Species);
        Assert.Equal(doubled.TrainRows.Select(r => speciesOfRow[r]), doubled.TrainSpecies);
        Assert.Equal(plain.ValidationRows, doubled.ValidationRows);
    }

    [Fact]
    public void Split_reports_the_species_merges()
    {
        var split = RowSplit.Build(Rows(Samples()), Base);
        Assert.Equal([new SpeciesMerge("bottlenose_dolpin", "bottlenose_dolphin", 2)], split.Merges);
        var summary = new System.Text.Json.Nodes.JsonObject
        {
            ["species_typos"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["from"] = "bottlenose_dolpin", ["to"] = "bottlenose_dolphin", ["rows"] = 2 }),
        };
        Assert.Equal(["species cleaned: bottlenose_dolpin -> bottlenose_dolphin (2 rows)"], HappyWhale.Pipeline.PrepareStage.ReportLines(summary, Base));
    }
}
