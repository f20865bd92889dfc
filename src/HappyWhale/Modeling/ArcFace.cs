using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HappyWhale.Modeling;

/// <summary>
/// Additive angular margin head (ArcFace). Holds class centres <c>weight</c> [numClasses * k, dim]
/// (k = 1: plain ArcFace; k &gt; 1: sub-center ArcFace, the cosine to a class is the max over its k centres).
/// Training logits are s*cos(theta + m) for the target class and s*cos(theta) elsewhere.
/// </summary>
public sealed class ArcMarginHead : nn.Module
{
    private readonly Parameter weight;

    public int NumClasses { get; }
    public long EmbeddingDim { get; }
    public int SubCenters { get; }
    public double S { get; }
    public double M { get; }
    public bool EasyMargin { get; }

    public Parameter Weight => weight;

    public ArcMarginHead(long embeddingDim, int numClasses, double s = 30.0, double m = 0.5, bool easyMargin = false, int subCenters = 1)
        : base(nameof(ArcMarginHead))
    {
        if (numClasses <= 0) throw new ArgumentOutOfRangeException(nameof(numClasses), numClasses, "must be positive");
        if (subCenters <= 0) throw new ArgumentOutOfRangeException(nameof(subCenters), subCenters, "must be positive");
        NumClasses = numClasses;
        EmbeddingDim = embeddingDim;
        SubCenters = subCenters;
        S = s;
        M = m;
        EasyMargin = easyMargin;
        weight = new Parameter(torch.empty(numClasses * subCenters, embeddingDim));
        using (torch.no_grad()) nn.init.xavier_uniform_(weight);
        RegisterComponents();
    }

    /// <summary>Cosine between L2-normalised embeddings [N, dim] and class centres: [N, numClasses].</summary>
    public Tensor Cosine(Tensor embeddings)
    {
        using var e = nn.functional.normalize(embeddings, p: 2, dim: 1);
        using var w = nn.functional.normalize(weight, p: 2, dim: 1);
        var cos = nn.functional.linear(e, w);
        if (SubCenters == 1) return cos;
        using (cos)
        {
            using var grouped = cos.view(cos.shape[0], NumClasses, SubCenters);
            return grouped.amax(new long[] { 2 });
        }
    }

    /// <summary>
    /// Training logits [N, numClasses]. <paramref name="labels"/> are int64 class indices [N].
    /// <paramref name="classMargins"/> (optional, [numClasses]) gives a margin per class (dynamic margins);
    /// otherwise every class uses <see cref="M"/>.
    /// </summary>
    /// <param name="marginScale">multiplies the margin(s) (a margin warm-up); exactly 1 leaves them untouched.</param>
    public Tensor Forward(Tensor embeddings, Tensor labels, Tensor? classMargins = null, double marginScale = 1.0)
    {
        using var scope = torch.NewDisposeScope();
        var cos = Cosine(embeddings).clamp(Scalars.Of(-1.0), Scalars.Of(1.0));
        var idx = labels.to(ScalarType.Int64).view(-1, 1);
        var target = cos.gather(1, idx);                                   // [N, 1]

        Tensor margin = classMargins is null
            ? torch.full_like(target, Scalars.Of(M))
            : classMargins.to(cos.dtype).to(cos.device).index_select(0, idx.view(-1)).view(-1, 1);
        if (marginScale != 1.0) margin = margin.mul(Scalars.Of(marginScale));

        // cos(theta + m) = cos cos m - sin sin m. sin^2 is clamped to a tiny positive floor so that at
        // cos = +-1 the value is finite and sqrt's gradient is not infinite (clamp passes no gradient there).
        var sin = (target * target).neg().add(Scalars.Of(1.0)).clamp(min: Scalars.Of(1e-12)).sqrt();
        var phi = target * margin.cos() - sin * margin.sin();

        if (EasyMargin)
        {
            phi = torch.where(target.gt(Scalars.Of(0)), phi, target);
        }
        else
        {
            // Where theta + m would pass pi, cos(theta + m) stops decreasing; fall back to cos - m sin(m)
            // (th = cos(pi - m), mm = sin(pi - m) * m), the usual monotone continuation.
            var piMinusMargin = margin.neg().add(Scalars.Of(Math.PI));
            var th = piMinusMargin.cos();
            var mm = piMinusMargin.sin() * margin;
            phi = torch.where(target > th, phi, target - mm);
        }

        var logits = cos.scatter(1, idx, phi).mul(Scalars.Of(S));
        return logits.MoveToOuterDisposeScope();
    }
}

/// <summary>
/// Dynamic ArcFace margins (as in the Happywhale and Google Landmark winning solutions): a class seen
/// n_i times gets m_i = a * n_i^b + c, so with b &lt; 0 rare classes get larger margins.
/// </summary>
public static class DynamicMargins
{
    /// <summary>m = a * n^b + c for one class with <paramref name="count"/> training images (count &gt;= 1).</summary>
    public static double Margin(long count, double a, double b, double c)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "a class needs at least one image");
        return a * Math.Pow(count, b) + c;
    }

    /// <summary>Per-class margins from the class index of every training row (labels in 0..numClasses-1).</summary>
    public static float[] FromLabels(IEnumerable<long> labels, int numClasses, double a, double b, double c)
    {
        var counts = new long[numClasses];
        foreach (var l in labels) counts[l]++;
        // A class with no training row never is a target; give it the margin of a single image.
        return counts.Select(n => (float)Margin(Math.Max(1, n), a, b, c)).ToArray();
    }
}
