using System.Globalization;
using HappyWhale.Data.Synthetic;
using HappyWhale.Experiments;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace HappyWhale.Data;

/// <summary>What <see cref="SyntheticGenerator.Generate"/> wrote.</summary>
public sealed record SyntheticSummary(int TrainImages, int TestImages, int Individuals, int NewIndividuals, int NewIndividualTestImages, int TypoRows);

/// <summary>
/// Writes a synthetic data set in the Kaggle layout: train.csv, train_images/, test_images/,
/// sample_submission.csv, plus ground truth test_labels.csv and boxes.csv (image,x0,y0,x1,y1 of the fin as a
/// detector would give it: jittered, some too small, some photos without a row).
/// Byte-identical output for the same spec: every random choice comes from System.Random(spec.Seed),
/// and each photo is rendered from its own seed, mixed from spec.Seed and the photo's position in a fixed order.
/// </summary>
public static class SyntheticGenerator
{
    sealed record Individual(string Id, SpeciesProfile Species, IndividualMarks Marks);
    sealed record Photo(string Image, Individual Individual, bool Train, int Seed);

    public static SyntheticSummary Generate(SynthSpec spec, string outputDir, IProgress<int>? progress = null)
    {
        Validate(spec);
        var rng = new Random(spec.Seed);
        var names = new UniqueHex(rng);
        var species = SpeciesCatalog.All.Take(spec.Species).ToArray();

        var known = MakeIndividuals(spec.Individuals, species, names, rng);
        int[] trainCounts = LongTailCounts.Draw(known.Count, spec.ImagesPerIndividual, rng);

        int newTestImages = (int)Math.Round(spec.TestImages * spec.NewIndividuals);
        int newIndividualCount = newTestImages == 0 ? 0 : Math.Max(1, (int)Math.Ceiling(newTestImages / 1.5));
        var unseen = MakeIndividuals(newIndividualCount, species, names, rng);

        var photos = new List<Photo>();
        for (int i = 0; i < known.Count; i++)
            for (int k = 0; k < trainCounts[i]; k++)
                photos.Add(new Photo(names.Next(14) + ".jpg", known[i], true, 0));

        // Unseen individuals: one test photo each, the rest spread at random.
        var unseenCounts = new int[unseen.Count];
        for (int i = 0; i < newTestImages; i++) unseenCounts[i < unseen.Count ? i : rng.Next(unseen.Count)]++;
        for (int i = 0; i < unseen.Count; i++)
            for (int k = 0; k < unseenCounts[i]; k++)
                photos.Add(new Photo(names.Next(14) + ".jpg", unseen[i], false, 0));

        // Known individuals appear in test as often as in train.
        int trainTotal = trainCounts.Sum();
        for (int t = newTestImages; t < spec.TestImages; t++)
        {
            int pick = rng.Next(trainTotal), i = 0;
            for (int acc = trainCounts[0]; acc <= pick; acc += trainCounts[++i]) { }
            photos.Add(new Photo(names.Next(14) + ".jpg", known[i], false, 0));
        }

        // Each photo's seed is mixed from the spec seed and the photo's position in this fixed order.
        for (int i = 0; i < photos.Count; i++) photos[i] = photos[i] with { Seed = SeedMixer.Derive(spec.Seed, i) };

        var train = photos.Where(p => p.Train).OrderBy(p => p.Image, StringComparer.Ordinal).ToList();
        var test = photos.Where(p => !p.Train).OrderBy(p => p.Image, StringComparer.Ordinal).ToList();
        var typos = ChooseTypos(train, spec.TypoRate, rng);

        var layout = new KaggleSource(outputDir);
        Directory.CreateDirectory(layout.TrainImagesDir);
        Directory.CreateDirectory(layout.TestImagesDir);
        var boxes = RenderAll(photos, spec.ImageSize, RenderOptions.From(spec), layout, progress);

        CsvFile.Write(layout.TrainCsv, KaggleSource.LabelHeader,
            train.Select(p => $"{p.Image},{typos.GetValueOrDefault(p.Image, p.Individual.Species.Name)},{p.Individual.Id}"));
        CsvFile.Write(layout.TestLabelsCsv, KaggleSource.LabelHeader,
            test.Select(p => $"{p.Image},{p.Individual.Species.Name},{p.Individual.Id}"));
        var topIds = train.GroupBy(p => p.Individual.Id)
            .OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Take(4).Select(g => g.Key);
        // As in the competition's file: four fixed ids, then new_individual in fifth place.
        string prediction = string.Join(' ', topIds.Append(NewIndividual.Id));
        CsvFile.Write(layout.SampleSubmissionCsv, SubmissionFormat.Header.Split(','),
            test.Select(p => $"{p.Image},{prediction}"));
        CsvFile.Write(Path.Combine(outputDir, "boxes.csv"), BoxTable.Header,
            photos.OrderBy(p => p.Image, StringComparer.Ordinal).Where(p => boxes[p.Image] is not null).Select(p => $"{p.Image},{boxes[p.Image]}"));

        return new SyntheticSummary(train.Count, test.Count, known.Count, unseen.Count, newTestImages, typos.Count);
    }

    static void Validate(SynthSpec spec)
    {
        if (spec.Species < 1 || spec.Species > SpeciesCatalog.All.Count)
            throw new ArgumentOutOfRangeException(nameof(spec), $"synth.species must be in [1, {SpeciesCatalog.All.Count}], got {spec.Species}");
        if (spec.Individuals < 2) throw new ArgumentOutOfRangeException(nameof(spec), "synth.individuals must be at least 2");
        if (spec.ImagesPerIndividual < 1) throw new ArgumentOutOfRangeException(nameof(spec), "synth.images_per_individual must be at least 1");
        if (spec.TestImages < 1) throw new ArgumentOutOfRangeException(nameof(spec), "synth.test_images must be at least 1");
        if (spec.NewIndividuals is < 0 or > 0.9) throw new ArgumentOutOfRangeException(nameof(spec), "synth.new_individuals must be in [0, 0.9]");
        if (spec.ImageSize < 32) throw new ArgumentOutOfRangeException(nameof(spec), "synth.image_size must be at least 32");
        if (spec.TypoRate is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(spec), "synth.typo_rate must be in [0, 1]");
        if (spec.JpegQualityMin > spec.JpegQualityMax)
            throw new UserException($"synth.jpeg_quality_min ({spec.JpegQualityMin}) is above synth.jpeg_quality_max ({spec.JpegQualityMax}).");
    }

    // Species are unevenly common (as in Kaggle); every species gets at least one individual when there is room.
    static List<Individual> MakeIndividuals(int count, SpeciesProfile[] species, UniqueHex names, Random rng)
    {
        var weights = species.Select((_, s) => 1 / Math.Pow(s + 1, 0.8)).ToArray();
        double sum = weights.Sum();
        var list = new List<Individual>(count);
        for (int i = 0; i < count; i++)
        {
            SpeciesProfile sp;
            if (i < species.Length && count >= species.Length) sp = species[i];
            else
            {
                double u = rng.NextDouble() * sum;
                int s = 0;
                while (s < species.Length - 1 && (u -= weights[s]) >= 0) s++;
                sp = species[s];
            }
            list.Add(new Individual(names.Next(12), sp, IndividualMarks.Draw(sp, rng)));
        }
        return list;
    }

    // round(rate * rows) train rows, chosen among species that have a known typo, get one.
    static Dictionary<string, string> ChooseTypos(List<Photo> train, double rate, Random rng)
    {
        var candidates = train.Where(p => p.Individual.Species.Typos.Count > 0).ToList();
        int wanted = Math.Min(candidates.Count, (int)Math.Round(rate * train.Count));
        var typos = new Dictionary<string, string>();
        for (int i = 0; i < wanted; i++)
        {
            int j = i + rng.Next(candidates.Count - i);
            (candidates[i], candidates[j]) = (candidates[j], candidates[i]);
            var names = candidates[i].Individual.Species.Typos;
            typos[candidates[i].Image] = names[rng.Next(names.Count)];
        }
        return typos;
    }

    static Dictionary<string, string?> RenderAll(List<Photo> photos, int imageSize, RenderOptions render, KaggleSource layout, IProgress<int>? progress)
    {
        var boxes = new string?[photos.Count];
        int done = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount };
        Parallel.For(0, photos.Count, options, i =>
        {
            var photo = photos[i];
            var rendered = FinPhotoRenderer.Render(photo.Individual.Species, photo.Individual.Marks, imageSize, new Random(photo.Seed), render);
            string path = photo.Train ? layout.TrainImagePath(photo.Image) : layout.TestImagePath(photo.Image);
            using (var image = Image.LoadPixelData<Rgb24>(rendered.Rgb, rendered.Width, rendered.Height))
                image.SaveAsJpeg(path, new JpegEncoder { Quality = rendered.JpegQuality });
            boxes[i] = rendered.HasBox ? string.Create(CultureInfo.InvariantCulture, $"{rendered.X0},{rendered.Y0},{rendered.X1},{rendered.Y1}") : null;
            progress?.Report(Interlocked.Increment(ref done));
        });
        return photos.Select((p, i) => (p.Image, boxes[i])).ToDictionary(t => t.Image, t => t.Item2);
    }

    /// <summary>Random lowercase hex names that never repeat within one data set.</summary>
    sealed class UniqueHex(Random rng)
    {
        readonly HashSet<string> used = [];

        public string Next(int length)
        {
            while (true)
            {
                var chars = new char[length];
                for (int i = 0; i < length; i++) chars[i] = "0123456789abcdef"[rng.Next(16)];
                var name = new string(chars);
                if (used.Add(name)) return name;
            }
        }
    }
}
