using HappyWhale.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// Training-time augmentation on a whole batch (N,C,H,W) at once: per-image horizontal flip and
/// rotation through one affine grid. Random draws come from the given generator only, so the
/// same seed gives the same augmented batch.
/// </summary>
public sealed class TensorAugment(AugmentSpec spec)
{
    public bool IsIdentity => spec.Hflip <= 0 && spec.RotateDeg <= 0;

    public Tensor Apply(Tensor batch, Generator generator)
    {
        if (IsIdentity) return batch.alias();
        long n = batch.shape[0];
        var x = batch;
        if (spec.Hflip > 0)
        {
            var flip = rand(new[] { n }, generator: generator).lt(spec.Hflip).view(n, 1, 1, 1);
            x = where(flip, x.flip(3), x);
        }
        if (spec.RotateDeg > 0)
        {
            var angle = (rand(new[] { n }, generator: generator) * 2 - 1) * (spec.RotateDeg * Math.PI / 180.0);
            var cos = angle.cos();
            var sin = angle.sin();
            var zero = zeros_like(angle);
            // Rows of the 2x3 affine matrix in normalised coordinates; rotation about the centre.
            var theta = stack(new[] { stack(new[] { cos, -sin, zero }, 1), stack(new[] { sin, cos, zero }, 1) }, 1);
            var grid = nn.functional.affine_grid(theta, x.shape, align_corners: false);
            x = nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: false);
        }
        return x;
    }
}
