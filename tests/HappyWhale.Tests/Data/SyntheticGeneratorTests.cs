using HappyWhale.Data;
using HappyWhale.Experiments;

namespace HappyWhale.Tests.Data;

public class SyntheticGeneratorTests
{
    static SynthSpec Spec(int seed = 7) => new()
    {
        Seed = seed, Species = 4, Individuals = 30, ImagesPerIndividual = 3, TestImages = 100,
        NewIndividuals = 0.16, ImageSize = 96, TypoRate = 0.05,
        SizeVariation = 0.45, JpegQualityMin = 70, JpegQualityMax = 95, WatermarkRate = 0.1, WatermarkSize = 0.06,
        OcclusionRate = 0.1, OcclusionSize = 0.25, BoxMissingRate = 0.05, BoxJitter = 0.1,
    };

    [Fact]
    public void Same_seed_gives_identical_bytes()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        SyntheticGenerator.Generate(Spec(), a.Path);
        SyntheticGenerator.Generate(Spec(), b.Path);

        Assert.Equal(File.ReadAllBytes(a.Combine("train.csv")), File.ReadAllBytes(b.Combine("train.csv")));
        Assert.Equal(File.ReadAllBytes(a.Combine("test_labels.csv")), File.ReadAllBytes(b.Combine("test_labels.csv")));
        var image = new KaggleSource(a.Path).ReadTrain()[5].Image;
        Assert.Equal(File.ReadAllBytes(a.Combine("train_images", image)), File.ReadAllBytes(b.Combine("train_images", image)));
        var testImage = new KaggleSource(a.Path).ListTestImages()[3];
        Assert.Equal(File.ReadAllBytes(a.Combine("test_images", testImage)), File.ReadAllBytes(b.Combine("test_images", testImage)));
    }

    [Fact]
    public void Different_seed_gives_different_data()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        SyntheticGenerator.Generate(Spec(1), a.Path);
        SyntheticGenerator.Generate(Spec(2), b.Path);
        Assert.NotEqual(File.ReadAllText(a.Combine("train.csv")), File.ReadAllText(b.Combine("train.csv")));
    }

    [Fact]
    public void Writes_the_kaggle_layout_with_consistent_counts()
    {
        using var dir = new TempFolder();
        var spec = Spec();
        var summary = SyntheticGenerator.Generate(spec, dir.Path);
        var source = new KaggleSource(dir.Path);

        var train = source.ReadTrain();
        var tests = source.ListTestImages();
        var labels = source.ReadTestLabels()!;
        Assert.Equal(spec.Individuals * spec.ImagesPerIndividual, train.Count);
        Assert.Equal(spec.Individuals, train.Select(s => s.IndividualId).Distinct().Count());
        Assert.Equal(train.Count, Directory.GetFiles(source.TrainImagesDir, "*.jpg").Length);
        Assert.All(train, s => Assert.True(File.Exists(source.TrainImagePath(s.Image))));
        Assert.Equal(spec.TestImages, tests.Count);
        Assert.Equal(tests, labels.Select(l => l.Image).ToList());
        Assert.Equal(summary.TrainImages, train.Count);

        // Long tail: most individuals have one or two images, some have many.
        var perId = train.GroupBy(s => s.IndividualId).Select(g => g.Count()).ToList();
        Assert.True(perId.Count(c => c <= 2) >= perId.Count / 3, $"counts {string.Join(' ', perId)}");
        // The tail is capped at max(4, min(10 x mean, 3% of images)): 4 for this small set.
        Assert.True(perId.Max() > spec.ImagesPerIndividual, $"counts {string.Join(' ', perId)}");

        var submission = File.ReadAllLines(dir.Combine("sample_submission.csv"));
        Assert.Equal("image,predictions", submission[0]);
        Assert.Equal(spec.TestImages + 1, submission.Length);
        var predicted = submission[1].Split(',')[1].Split(' ');
        Assert.Equal(5, predicted.Length);
        Assert.Equal("new_individual", predicted[4]);            // fifth, as in the competition's file
        var topCount = perId.Max();
        Assert.Equal(topCount, train.Count(s => s.IndividualId == predicted[0]));

        // A detector's boxes: most photos have one (box_missing_rate 0.05), some do not.
        var boxes = File.ReadAllLines(dir.Combine("boxes.csv"));
        Assert.InRange(boxes.Length - 1, (int)(0.85 * (train.Count + tests.Count)), train.Count + tests.Count);
    }

    [Fact]
    public void Share_of_new_individuals_in_test_is_near_spec()
    {
        using var dir = new TempFolder();
        var spec = Spec() with { TestImages = 200 };
        SyntheticGenerator.Generate(spec, dir.Path);
        var source = new KaggleSource(dir.Path);
        var trainIds = source.ReadTrain().Select(s => s.IndividualId).ToHashSet();
        var labels = source.ReadTestLabels()!;
        double share = labels.Count(l => !trainIds.Contains(l.IndividualId)) / (double)labels.Count;
        Assert.InRange(share, spec.NewIndividuals - 0.02, spec.NewIndividuals + 0.02);
    }

    [Fact]
    public void Typos_are_known_ones_and_cleaning_removes_them()
    {
        using var dir = new TempFolder();
        var spec = Spec() with { TypoRate = 0.1 };
        var summary = SyntheticGenerator.Generate(spec, dir.Path);
        var train = new KaggleSource(dir.Path).ReadTrain();
        var typos = train.Where(s => SpeciesCleaner.Replacements.ContainsKey(s.Species) && s.Species != "beluga").ToList();
        Assert.Equal(summary.TypoRows, typos.Count);
        Assert.InRange(typos.Count, 1, (int)Math.Round(0.1 * train.Count));

        var cleaned = SpeciesCleaner.Clean(train).Samples;
        Assert.DoesNotContain(cleaned, s => s.Species is "bottlenose_dolpin" or "kiler_whale" or "globis" or "pilot_whale");
        Assert.True(cleaned.Select(s => s.Species).Distinct().Count() <= spec.Species);
    }

    [Fact]
    public void Images_vary_in_size_around_the_spec()
    {
        using var dir = new TempFolder();
        SyntheticGenerator.Generate(Spec(), dir.Path);
        var sizes = Directory.GetFiles(dir.Combine("train_images")).Take(40)
            .Select(f => SixLabors.ImageSharp.Image.Identify(f))
            .Select(info => Math.Max(info.Width, info.Height)).ToList();
        Assert.All(sizes, s => Assert.InRange(s, 96 * 0.75, 96 * 1.3));
        Assert.True(sizes.Distinct().Count() > 5);
    }
}

public class SyntheticGeneratorTimingTests
{
    [Fact]
    public void Five_hundred_images_of_160_px_take_seconds()
    {
        using var dir = new TempFolder();
        var spec = new SynthSpec
        {
            Seed = 7, Species = 4, Individuals = 75, ImagesPerIndividual = 4, TestImages = 200,
            NewIndividuals = 0.16, ImageSize = 160, TypoRate = 0.05,
        };
        string keep = Environment.GetEnvironmentVariable("HAPPYWHALE_SYNTH_SAMPLE_DIR") ?? dir.Path;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var summary = SyntheticGenerator.Generate(spec, keep);
        watch.Stop();
        Assert.Equal(500, summary.TrainImages + summary.TestImages);
        Assert.True(watch.Elapsed.TotalSeconds < 30, $"took {watch.Elapsed.TotalSeconds:F1} s");
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "happywhale-synth-timing.txt"),
            $"{DateTime.UtcNow:O} 500 images at 160 px: {watch.Elapsed.TotalSeconds:F2} s on {Environment.ProcessorCount} cores\n");
    }
}
