using HappyWhale.Data;

namespace HappyWhale.Tests.Data;

public class SpeciesCleanerTests
{
    [Fact]
    public void Merges_known_typos_and_reports_them()
    {
        Sample[] samples =
        [
            new("a.jpg", "bottlenose_dolpin", "1"), new("b.jpg", "bottlenose_dolphin", "1"),
            new("c.jpg", "kiler_whale", "2"), new("d.jpg", "globis", "3"), new("e.jpg", "pilot_whale", "3"),
            new("f.jpg", "beluga", "4"), new("g.jpg", "humpback_whale", "5"), new("h.jpg", "globis", "6"),
        ];
        var result = SpeciesCleaner.Clean(samples);

        Assert.Equal(
            ["bottlenose_dolphin", "bottlenose_dolphin", "killer_whale", "short_finned_pilot_whale",
             "short_finned_pilot_whale", "beluga_whale", "humpback_whale", "short_finned_pilot_whale"],
            result.Samples.Select(s => s.Species).ToArray());
        Assert.Equal(samples.Select(s => s.Image), result.Samples.Select(s => s.Image));
        Assert.Equal(
            [new("beluga", "beluga_whale", 1), new("bottlenose_dolpin", "bottlenose_dolphin", 1),
             new("globis", "short_finned_pilot_whale", 2), new("kiler_whale", "killer_whale", 1),
             new SpeciesMerge("pilot_whale", "short_finned_pilot_whale", 1)],
            result.Merges);
    }

    [Fact]
    public void Clean_data_is_unchanged()
    {
        Sample[] samples = [new("a.jpg", "killer_whale", "1")];
        var result = SpeciesCleaner.Clean(samples);
        Assert.Equal(samples, result.Samples);
        Assert.Empty(result.Merges);
    }
}
