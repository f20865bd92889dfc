using System.Text.Json;

namespace HappyWhale.Experiments;

// Every {a|b} choice of experiments/defaults.yaml as an enum, bound once (SpecBinder: snake_case names), so code past the
// spec compares members, never strings. A test holds each enum's names equal to the schema's choices.

/// <summary>data.source: where images come from.</summary>
public enum DataSource { Synthetic, Kaggle, Folder }

/// <summary>data.on_bad_image: what to do with bad inputs.</summary>
public enum BadImagePolicy { Stop, Skip }

/// <summary>prepare.resize: how an image becomes a square.</summary>
public enum SquareResize { Squash, Letterbox }

/// <summary>prepare.crop: whole images, or each cropped to its box first.</summary>
public enum CropMode { None, Box }

/// <summary>model.pooling: global pooling of the last feature map.</summary>
public enum PoolingType { Gem, Avg }

/// <summary>model.neck: Linear + BatchNorm1d, or BatchNorm1d alone.</summary>
public enum NeckType { LinearBn, Bn }

/// <summary>model.head.type: ArcFace, or sub-center ArcFace (k centres per class).</summary>
public enum HeadType { Arcface, Subcenter }

/// <summary>train.optimizer.</summary>
public enum OptimizerType { Adamw, Sgd }

/// <summary>train.schedule: warmup + cosine, or ramp-up / sustain / exponential decay.</summary>
public enum ScheduleType { Cosine, Ramp }

/// <summary>train.memory_format: how training batches lay out their channels (PyTorch's torch.contiguous_format / torch.channels_last).</summary>
public enum MemoryFormat { Contiguous, ChannelsLast }

/// <summary>prepare.resample: the filter that resizes (both widen when shrinking, so they antialias): bicubic is the
/// sharper; bilinear leaves thin strokes softer, as PIL's Image.BILINEAR does.</summary>
public enum Resample { Bicubic, Bilinear }

/// <summary>model.input_norm: the backbone's expected statistics (its pretrained weights' own, else torchvision's ImageNet
/// mean/std), or 1 - x so that dark strokes on light paper enter as strokes near 1 on a background of 0.</summary>
public enum InputNorm { Imagenet, Inverted }

/// <summary>evaluate.feature: what an image's descriptor is: the trained embedding, or the embedding and the pooled
/// backbone features, each L2-normalised, side by side (the backbone's features carry what the neck did not keep).</summary>
public enum EmbeddingFeature { Embedding, EmbeddingAndPooled }

/// <summary>executor: where stages not yet cached are computed.</summary>
public enum ExecutorType { Local, Slurm }

/// <summary>A choice as the YAML spells it (snake_case), for messages.</summary>
public static class Choice
{
    public static string Name<T>(T value) where T : struct, Enum => JsonNamingPolicy.SnakeCaseLower.ConvertName(value.ToString());

    public static IReadOnlyList<string> Names<T>() where T : struct, Enum => Enum.GetValues<T>().Select(Name).ToList();

    /// <summary>The member spelt <paramref name="text"/> in YAML's spelling, or null.</summary>
    public static T? Parse<T>(string text) where T : struct, Enum => Enum.GetValues<T>().Cast<T?>().FirstOrDefault(v => Name(v!.Value) == text);
}
