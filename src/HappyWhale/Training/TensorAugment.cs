using HappyWhale.Experiments;
using HappyWhale.Imaging;
using TorchSharp;
using static TorchSharp.torch;

namespace HappyWhale.Training;

/// <summary>
/// Training-time augmentation on a whole batch (N,3,H,W) of [0,1] images at once: flip; one affine
/// grid for rotation, scale, shift and shear (outside the image: its mirror, or white or black paper); cutout; brightness, contrast, saturation, hue; random
/// grayscale. Random draws come from the given generator only, so the same seed gives the same
/// augmented batch.
/// </summary>
public sealed class TensorAugment(AugmentSpec spec)
{
    // ITU-R BT.601 luma, the weights torchvision's rgb_to_grayscale uses.
    static readonly float[] Luma = [0.299f, 0.587f, 0.114f];

    bool Geometric => spec.RotateDeg > 0 || spec.Scale > 0 || spec.Shift > 0 || spec.ShearDeg > 0;

    public bool IsIdentity => spec.Hflip <= 0 && !Geometric && spec.Cutout <= 0 && spec.Brightness <= 0 && spec.Contrast <= 0
                              && spec.Saturation <= 0 && spec.Hue <= 0 && spec.GrayP <= 0;

    public Tensor Apply(Tensor batch, Generator generator)
    {
        if (IsIdentity) return batch.alias();
        long n = batch.shape[0];
        // Draws come from the CPU generator on every device (the same numbers on CPU and CUDA) and then follow the batch.
        Tensor Draw(params long[] shape) => OnDeviceOf(batch, rand(shape, generator: generator));
        Tensor Uniform(double halfWidth) => Draw(n).mul_(Scalars.Of(2)).sub_(Scalars.Of(1)).mul_(Scalars.Of(halfWidth));
        Tensor Chance(double p) => Draw(n).lt(Scalars.Of(p)).view(n, 1, 1, 1);
        Tensor OnePlusUniform(double halfWidth) => Uniform(halfWidth).add_(Scalars.Of(1));

        var x = batch;
        if (spec.Hflip > 0) x = where(Chance(spec.Hflip), x.flip(3), x);
        if (Geometric)
        {
            Tensor angle = Uniform(spec.RotateDeg * Math.PI / 180.0), zoom = OnePlusUniform(spec.Scale), dx = Uniform(2 * spec.Shift), dy = Uniform(2 * spec.Shift);
            // Drawn after the others and only when asked for, so experiments without shear draw what they always drew.
            Tensor? shear = spec.ShearDeg > 0 ? Uniform(spec.ShearDeg * Math.PI / 180.0) : null;
            x = Affine(x, angle, zoom, dx, dy, shear, spec.Fill);
        }
        if (spec.Cutout > 0) x = Cutout(x, Chance(spec.Cutout), Draw(n, 2));
        if (spec.Brightness > 0) x = x * OnePlusUniform(spec.Brightness).view(n, 1, 1, 1);
        if (spec.Contrast > 0)
        {
            var mean = Gray(x).mean(new long[] { 1, 2, 3 }, keepdim: true);
            x = (x - mean) * OnePlusUniform(spec.Contrast).view(n, 1, 1, 1) + mean;
        }
        if (spec.Saturation > 0)
        {
            var gray = Gray(x);
            x = gray + (x - gray) * OnePlusUniform(spec.Saturation).view(n, 1, 1, 1);
        }
        if (spec.Hue > 0) x = RotateHue(x, Uniform(spec.Hue * 2 * Math.PI));
        if (spec.GrayP > 0) x = where(Chance(spec.GrayP), Gray(x).expand_as(x), x);
        return x.clamp(Scalars.Of(0), Scalars.Of(1));
    }

    static Tensor Gray(Tensor x) => (x * tensor(Luma, new long[] { 1, 3, 1, 1 }, device: x.device)).sum(1, keepdim: true);

    static Tensor OnDeviceOf(Tensor batch, Tensor t) => batch.device_type == DeviceType.CPU ? t : t.to(batch.device);

    /// <summary>
    /// Rotation about the centre, zoom, translation (in normalised units of the half side) and, when given, a
    /// horizontal shear by an angle: the grid matrix is R(angle) . Shear(shear) / zoom.
    /// </summary>
    static Tensor Affine(Tensor x, Tensor angle, Tensor zoom, Tensor dx, Tensor dy, Tensor? shear = null, AffineFill fill = AffineFill.Reflect)
    {
        // The grid maps output to input coordinates, so the inverse zoom enlarges the content.
        var cos = angle.cos() / zoom;
        var sin = angle.sin() / zoom;
        Tensor theta;
        if (shear is null)
            theta = stack(new[] { stack(new[] { cos, -sin, dx }, 1), stack(new[] { sin, cos, dy }, 1) }, 1);
        else
        {
            // R . [[1, tan s], [0, 1]] = [[cos, cos tan s - sin], [sin, sin tan s + cos]]
            var tan = shear.tan();
            theta = stack(new[] { stack(new[] { cos, cos * tan - sin, dx }, 1), stack(new[] { sin, sin * tan + cos, dy }, 1) }, 1);
        }
        var grid = nn.functional.affine_grid(theta, x.shape, align_corners: false);
        return fill switch
        {
            AffineFill.Black => nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false),
            // Sample the negative with zeros outside, then turn it back: white (1.0) outside.
            AffineFill.White => InvertedImage.Apply(nn.functional.grid_sample(InvertedImage.Apply(x), grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Zeros, align_corners: false)),
            _ => nn.functional.grid_sample(x, grid, GridSampleMode.Bilinear, GridSamplePaddingMode.Reflection, align_corners: false),
        };
    }

    /// <summary>Blanks one square of a quarter of the side, centred at a random point, in the chosen images.</summary>
    static Tensor Cutout(Tensor x, Tensor chosen, Tensor centres)
    {
        long h = x.shape[2], w = x.shape[3];
        double half = Math.Max(1, Math.Min(h, w) / 8.0);
        var cy = centres[.., 0].mul(Scalars.Of(h)).view(-1, 1, 1, 1);
        var cx = centres[.., 1].mul(Scalars.Of(w)).view(-1, 1, 1, 1);
        var ys = arange(Scalars.Of(0), Scalars.Of(h), Scalars.Of(1), ScalarType.Float32, x.device).view(1, 1, h, 1);
        var xs = arange(Scalars.Of(0), Scalars.Of(w), Scalars.Of(1), ScalarType.Float32, x.device).view(1, 1, 1, w);
        var inside = (ys - cy).abs().lt(Scalars.Of(half)).logical_and((xs - cx).abs().lt(Scalars.Of(half))).logical_and(chosen);
        return x.masked_fill(inside, Scalars.Of(0));
    }

    /// <summary>Hue rotation as a rotation of the chroma plane in YIQ space (cheap, smooth, keeps luma).</summary>
    static Tensor RotateHue(Tensor x, Tensor angle)
    {
        var toYiq = tensor(new float[] { 0.299f, 0.587f, 0.114f, 0.596f, -0.274f, -0.322f, 0.211f, -0.523f, 0.312f }, new long[] { 3, 3 }, device: x.device);
        var fromYiq = linalg.inv(toYiq);
        var yiq = einsum("ij,njhw->nihw", toYiq, x);
        var c = angle.cos().view(-1, 1, 1);
        var s = angle.sin().view(-1, 1, 1);
        var i = yiq[.., 1] * c - yiq[.., 2] * s;
        var q = yiq[.., 1] * s + yiq[.., 2] * c;
        return einsum("ij,njhw->nihw", fromYiq, stack(new[] { yiq[.., 0], i, q }, 1));
    }
}
