using HappyWhale.Data;
using HappyWhale.Evaluation;
using HappyWhale.Experiments;
using HappyWhale.Imaging;
using TorchSharp;

namespace HappyWhale.Pipeline;

/// <summary>What predict is asked: the photos (a folder, a .zip or one photo), an optional gallery, how many answers per photo.</summary>
/// <param name="Gallery">a folder or .zip laid out as &lt;species&gt;/&lt;individual&gt;/&lt;image&gt;, or a Kaggle-layout folder (its train.csv
/// images); null = every training image of the experiment.</param>
public sealed record PredictRequest(string Images, string? Gallery = null, int Top = MapAt5.Cutoff);

/// <summary>A gallery photo: its name, its individual, and its original (for thumbnails).</summary>
public sealed record GalleryPhoto(string Image, string IndividualId, SourceImage Original);

/// <summary>One answer for a photo: an individual (or new_individual), its similarity, and the gallery photo of that individual that matched best (null for new_individual).</summary>
public sealed record Match(string Id, float Similarity, GalleryPhoto? Photo);

/// <summary>A photo and its ranked answers.</summary>
public sealed record PhotoPrediction(string Image, SourceImage Original, IReadOnlyList<Match> Matches);

/// <summary>Predict's answers and what they were made against. Keeps the photos' archives open (for thumbnails) until disposed.</summary>
public sealed class Predictions(string experiment, string photos, string gallery, IReadOnlyList<PhotoPrediction> items, double threshold,
    int galleryImages, int galleryIndividuals, IReadOnlyList<string> models, double blendLogits, IReadOnlyList<IDisposable> open) : IDisposable
{
    public string Experiment { get; } = experiment;
    public string PhotosDescription { get; } = photos;
    public string GalleryDescription { get; } = gallery;
    public IReadOnlyList<PhotoPrediction> Photos { get; } = items;
    /// <summary>The new_individual threshold tuned on the experiment's validation fold.</summary>
    public double Threshold { get; } = threshold;
    public int GalleryImages { get; } = galleryImages;
    public int GalleryIndividuals { get; } = galleryIndividuals;
    /// <summary>The train entries (short keys) whose models embedded the photos.</summary>
    public IReadOnlyList<string> Models { get; } = models;
    public double BlendLogits { get; } = blendLogits;

    public void Dispose()
    {
        foreach (var d in open) d.Dispose();
    }
}

/// <summary>
/// predict: identifies new photos with an experiment's trained model(s), as its evaluate stage answers the
/// test set. The photos are prepared exactly as the experiment's images (same size, crop, grayscale; same
/// bad-input policy, before any training), the experiment runs up to evaluate through the cache (so a
/// trained experiment trains nothing; an untrained one trains first), the submission's models embed the
/// photos and the gallery (with flip TTA when the experiment uses it), each photo's neighbours are ranked
/// as individuals (blended with the head's probabilities when evaluate.blend_logits is on), and
/// new_individual is inserted below the threshold evaluate tuned. Nothing is cached: the photos and any
/// gallery are prepared into a scratch folder under artifacts/tmp that is removed afterwards.
/// </summary>
public static class PredictStage
{
    public const string StopOutcome = "nothing was predicted";

    public static Predictions Run(ResolvedExperiment experiment, PipelineOptions options, PredictRequest request)
    {
        if (request.Top < 1) throw new UserException($"--top {request.Top}: give at least 1 answer per photo.");
        var spec = experiment.Spec;
        var open = new List<IDisposable>();
        string scratch = Path.Combine(options.ArtifactsRoot, "tmp", $"predict-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            // The photos (and a given gallery) are checked and prepared first: bad input stops before any training.
            var photos = LooseImages.Open(request.Images);
            open.Add(photos);
            int size = spec.Train.Phases[^1].ImageSize ?? spec.Prepare.ImageSize;
            var prepare = spec.Prepare with { ImageSize = size };
            string photoFolder = Path.Combine(scratch, "photos"), galleryFolder = Path.Combine(scratch, "gallery");
            PrepareInto(photos, prepare, spec.Data, photoFolder, "photos", options.Display);
            IImageSource? gallerySource = null;
            if (request.Gallery is { } given)
            {
                gallerySource = OpenGallery(given);
                if (gallerySource is IDisposable g) open.Add(g);
                PrepareInto(gallerySource, prepare, spec.Data, galleryFolder, "gallery", options.Display);
            }

            var pipeline = new ExperimentPipeline(experiment, options);
            var result = pipeline.Run(StageNames.Evaluate);
            var evaluated = pipeline.Evaluated ?? throw new InvalidOperationException("the pipeline ran evaluate but recorded no models");
            double threshold = result.Metrics["new_individual_threshold"];
            var models = evaluated.Models.Select(m => m.ForSubmission).ToList();
            if (gallerySource is null)
            {
                gallerySource = pipeline.OpenSource();
                if (gallerySource is IDisposable g) open.Add(g);
            }

            using var photoSet = PreparedSet.Open(photoFolder);
            using var gallerySet = PreparedSet.Open(request.Gallery is null ? evaluated.Prepared.Folder : galleryFolder);
            // The experiment's own gallery leaves out held-out species (data.holdout_species), as evaluate's does.
            var galleryRows = gallerySet.Rows.Where(r => r.Subset == "train" && (request.Gallery is not null || !SpeciesHoldout.IsHeldOut(r.Species, spec.Data)))
                .Select(r => r.Row).ToList();
            if (galleryRows.Count == 0) throw new UserException($"the gallery {gallerySource.Description} holds no labelled photos to match against.");
            var galleryIds = galleryRows.Select(r => gallerySet.Rows[r].IndividualId).ToList();
            var photoRows = photoSet.Rows.Select(r => r.Row).ToList();

            var (galleryEmbeddings, queries) = options.Display.Progress(ctx =>
            {
                var task = ctx.Add("predict: embeddings", galleryRows.Count + photoRows.Count);
                var g = Embed(spec, gallerySet, models, galleryRows, n => task.Increment(n));
                var q = Embed(spec, photoSet, models, photoRows, n => task.Increment(n));
                return (g, q);
            });
            using var _ = galleryEmbeddings;
            using var __ = queries;
            using var head = spec.Evaluate.BlendLogits > 0 ? ClassHeads.Load(models[0].Model, models[0].TrainFolder) : null;

            var neighbours = RetrievalEvaluator.Search(queries, galleryEmbeddings, spec.Evaluate.KnnK);
            var filler = SampleSubmission.FixedPredictions(galleryIds).Where(id => id != NewIndividual.Id).ToList();
            var ranked = RetrievalEvaluator.Rank(neighbours, galleryIds, threshold, null, filler,
                LogitBlend.For(head, queries, spec.Evaluate.BlendLogits, spec.Evaluate.KnnK), request.Top).Predictions;

            var originals = gallerySource.List().Images.Where(i => i.Subset == "train").ToDictionary(i => i.Sample.Image, StringComparer.Ordinal);
            var galleryPhotos = galleryRows.Select(r => gallerySet.Rows[r]).Select(r => new GalleryPhoto(r.Image, r.IndividualId, originals[r.Image])).ToList();
            var firstOf = new Dictionary<string, int>(StringComparer.Ordinal);
            for (int i = 0; i < galleryIds.Count; i++) firstOf.TryAdd(galleryIds[i], i);

            var items = new List<PhotoPrediction>(photoRows.Count);
            var photoOriginals = photos.List().Images.ToDictionary(i => i.Sample.Image, StringComparer.Ordinal);
            for (int q = 0; q < photoRows.Count; q++)
            {
                // The neighbours are sorted: an individual's first neighbour is its best-matching photo.
                var best = new Dictionary<string, int>(StringComparer.Ordinal);
                for (int j = 0; j < neighbours.K; j++)
                {
                    int g = neighbours.Indices[q * neighbours.K + j];
                    best.TryAdd(galleryIds[g], g);
                }
                var prediction = ranked[q];
                var matches = prediction.Ids.Select((id, k) => new Match(id, prediction.Similarities[k],
                    best.TryGetValue(id, out int g) || firstOf.TryGetValue(id, out g) ? galleryPhotos[g] : null)).ToList();
                string image = photoSet.Rows[photoRows[q]].Image;
                items.Add(new PhotoPrediction(image, photoOriginals[image], matches));
            }
            var keeper = new Predictions(experiment.Name, photos.Description, gallerySource.Description, items, threshold, galleryRows.Count,
                galleryIds.Distinct(StringComparer.Ordinal).Count(), models.Select(m => $"{m.Experiment}: train/{m.TrainKey[..12]}").ToList(),
                spec.Evaluate.BlendLogits, open.ToList());
            open.Clear();
            return keeper;
        }
        finally
        {
            foreach (var d in open) d.Dispose();
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
        }
    }

    /// <summary>The embeddings the submission uses (with flip TTA when the experiment evaluates with it).</summary>
    static torch.Tensor Embed(ExperimentSpec spec, PreparedSet images, IReadOnlyList<EvaluationModel> models, IReadOnlyList<int> rows, Action<int> progress)
    {
        var (main, noTta) = EvaluateStage.Embed(spec, images, models, rows, progress);
        noTta?.Dispose();
        return main;
    }

    static void PrepareInto(IImageSource source, PrepareSpec spec, DataSpec data, string folder, string what, IPipelineObserver display)
    {
        var summary = display.Progress(ctx =>
        {
            IProgressTask? task = null;
            return PrepareStage.Compute(source, spec, data, folder, total =>
            {
                task = ctx.Add($"predict: preparing the {what} at {spec.ImageSize}px", total);
                return task.AsRunningTotal();
            }, StopOutcome, requireTraining: what != "photos");
        });
        foreach (var line in PrepareStage.ReportLines(summary, data))
            display.Note($"{what}: {line}");
    }

    /// <summary>--gallery: a Kaggle-layout folder (train.csv, train_images/) or a folder or .zip laid out as &lt;species&gt;/&lt;individual&gt;/&lt;image&gt;.</summary>
    static IImageSource OpenGallery(string path)
    {
        string full = Path.GetFullPath(path);
        if (!Directory.Exists(full) && !File.Exists(full))
            throw new UserException($"--gallery {full}: no such folder or .zip; give a folder or .zip laid out as <species>/<individual>/<image>, " +
                                    "or a Kaggle-layout folder with train.csv and train_images/.");
        if (Directory.Exists(full) && File.Exists(Path.Combine(full, "train.csv"))) return new KaggleSource(full);
        return new FolderSource([full], queryShare: 0, newIndividualShare: 0, seed: 0);
    }
}
