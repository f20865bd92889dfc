
namespace HappyWhale.Data.Synthetic;

/// <summary>A rendered photo: RGB bytes (row-major, 3 per pixel), its size, the JPEG quality to save it
/// with, and the box a detector reports for the fin (jittered, sometimes too small; none when <see cref="HasBox"/> is false).</summary>
public sealed record RenderedPhoto(byte[] Rgb, int Width, int Height, int JpegQuality, int X0, int Y0, int X1, int Y1, bool HasBox = true);

/// <summary>The generator's realism knobs (the synth section): size, JPEG quality, watermarks, occlusion, detector noise.</summary>
public sealed record RenderOptions(double SizeVariation = 0.45, int JpegQualityMin = 70, int JpegQualityMax = 95,
    double WatermarkRate = 0, double WatermarkSize = 0.06, double OcclusionRate = 0, double OcclusionSize = 0.25,
    double BoxMissingRate = 0, double BoxJitter = 0)
{
    public static RenderOptions From(Experiments.SynthSpec s) => new(s.SizeVariation, s.JpegQualityMin, s.JpegQualityMax,
        s.WatermarkRate, s.WatermarkSize, s.OcclusionRate, s.OcclusionSize, s.BoxMissingRate, s.BoxJitter);
}

/// <summary>
/// Renders one photo of one individual's fin: water with a colour cast, the back and the fin, the
/// individual's marks, a wavy foreground water line; then pose (rotation, scale, off-centre position,
/// mirror), lighting (brightness, night, black-and-white), sensor noise, varied size and JPEG quality.
/// Everything random comes from the <see cref="Random"/> passed in, so a photo is a function of its seed.
/// </summary>
public static class FinPhotoRenderer
{
    static readonly (double R, double G, double B)[] WaterCasts =
    [
        (35, 75, 120),   // blue
        (30, 90, 95),    // teal
        (40, 95, 70),    // green
        (150, 100, 115), // sunset pink
        (90, 100, 110),  // overcast grey
    ];

    static readonly string[] Watermarks = ["HAPPYWHALE", "OCEAN TOURS", "(C) MARINE LAB", "PHOTO 2019", "SEA-EXPLORER.COM", "WHALE WATCH CO", "ID: CATALOGUE"];

    public static RenderedPhoto Render(SpeciesProfile species, IndividualMarks marks, int nominalSize, Random rng) =>
        Render(species, marks, nominalSize, rng, new RenderOptions());

    public static RenderedPhoto Render(SpeciesProfile species, IndividualMarks marks, int nominalSize, Random rng, RenderOptions options)
    {
        // Size and framing.
        int longSide = Math.Max(32, (int)Math.Round(nominalSize * (0.8 + options.SizeVariation * rng.NextDouble())));
        double aspect = 1.0 + 0.6 * rng.NextDouble();
        bool portrait = rng.NextDouble() < 0.15;
        int width = portrait ? (int)Math.Round(longSide / aspect) : longSide;
        int height = portrait ? longSide : (int)Math.Round(longSide / aspect);

        double finExtent = species.Height + 0.45;               // fin plus the visible back
        double basePx = Math.Min(width * (0.32 + 0.22 * rng.NextDouble()), height * 0.8 / finExtent);
        double angle = (rng.NextDouble() * 2 - 1) * 8 * Math.PI / 180;
        bool mirror = rng.NextDouble() < 0.5;
        double cx = width * (0.5 + 0.16 * (rng.NextDouble() * 2 - 1));
        double cy = height * (0.5 + 0.12 * (rng.NextDouble() * 2 - 1));
        double pivotX = 0.5, pivotY = species.Height / 2 - 0.15;
        double cos = Math.Cos(angle), sin = Math.Sin(angle);
        (double X, double Y) ToImage((double X, double Y) p)
        {
            double fx = (p.X - pivotX) * basePx, fy = -(p.Y - pivotY) * basePx;   // y down in the image
            if (mirror) fx = -fx;
            return (cx + cos * fx - sin * fy, cy + sin * fx + cos * fy);
        }
        (double X, double Y)[] Transform((double X, double Y)[] poly) => Array.ConvertAll(poly, ToImage);

        // Water.
        var cast = WaterCasts[rng.Next(WaterCasts.Length)];
        double ripplePhase = rng.NextDouble() * Math.PI * 2, rippleFreq = 0.15 + 0.2 * rng.NextDouble();
        var rgb = new float[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            double horizon = 1.25 - 0.45 * y / height;
            for (int x = 0; x < width; x++)
            {
                double ripple = 1 + 0.08 * Math.Sin(ripplePhase + y * rippleFreq + 0.05 * x);
                int i = (y * width + x) * 3;
                rgb[i] = (float)(cast.R * horizon * ripple);
                rgb[i + 1] = (float)(cast.G * horizon * ripple);
                rgb[i + 2] = (float)(cast.B * horizon * ripple);
            }
        }

        // Fin and back.
        var silhouette = new float[width * height];
        var fin = Transform(FinOutline.Build(species, marks.Notches));
        PolygonRasterizer.Fill(silhouette, width, height, fin);
        var back = Transform(PolygonRasterizer.Ellipse(0.5, -0.4, 1.3, 0.45, 0, 48));
        PolygonRasterizer.Fill(silhouette, width, height, back);
        double gray = Math.Clamp(species.Gray + marks.ShadeOffset, 5, 250);
        Blend(rgb, silhouette, (gray, gray, gray * 1.04), width, height, shadeTop: true);

        // Marks, kept inside the silhouette.
        foreach (var spot in marks.Spots)
        {
            var mask = new float[width * height];
            PolygonRasterizer.Fill(mask, width, height,
                Transform(PolygonRasterizer.Ellipse(spot.X, spot.Y, spot.Radius * spot.Elongation, spot.Radius, spot.Angle, 20)));
            for (int i = 0; i < mask.Length; i++) mask[i] = Math.Min(mask[i], silhouette[i]);
            var colour = spot.Light ? (225.0, 222.0, 215.0) : (15.0, 14.0, 16.0);
            Blend(rgb, mask, colour, width, height, shadeTop: false);
        }

        // Foreground water hides the lower back.
        double waterline = -0.05 - 0.2 * rng.NextDouble(), waveAmp = 0.03 + 0.04 * rng.NextDouble();
        double wavePhase = rng.NextDouble() * Math.PI * 2;
        var water = new List<(double X, double Y)>();
        for (int i = 0; i <= 40; i++)
        {
            double fx = -3 + 7.0 * i / 40;
            water.Add((fx, waterline + waveAmp * Math.Sin(wavePhase + fx * 9)));
        }
        water.Add((4, -6)); water.Add((-3, -6));
        var front = new float[width * height];
        PolygonRasterizer.Fill(front, width, height, Transform(water.ToArray()));
        for (int i = 0; i < front.Length; i++) front[i] *= 0.9f;
        Blend(rgb, front, (cast.R * 0.9, cast.G * 0.9, cast.B * 0.9), width, height, shadeTop: false);

        // Partial occlusion: spray, a bird or a boat's bow over part of the fin.
        var (bx0, by0, bx1, by1) = Bounds(fin, width, height);
        if (rng.NextDouble() < options.OcclusionRate)
        {
            double radius = Math.Max(2, basePx * options.OcclusionSize * (0.4 + 0.6 * rng.NextDouble()));
            double ox = bx0 + (bx1 - bx0) * rng.NextDouble(), oy = by0 + (by1 - by0) * rng.NextDouble();
            var blob = new float[width * height];
            var outline = PolygonRasterizer.Ellipse(ox, oy, radius * (1 + 0.8 * rng.NextDouble()), radius, rng.NextDouble() * Math.PI, 24);
            for (int k = 0; k < outline.Length; k++)   // a lumpy edge
                outline[k] = (ox + (outline[k].X - ox) * (0.8 + 0.4 * rng.NextDouble()), oy + (outline[k].Y - oy) * (0.8 + 0.4 * rng.NextDouble()));
            PolygonRasterizer.Fill(blob, width, height, outline);
            var colour = rng.Next(3) switch { 0 => (235.0, 240.0, 245.0), 1 => (28.0, 26.0, 30.0), _ => (170.0, 60.0, 45.0) };
            Blend(rgb, blob, colour, width, height, shadeTop: false);
        }

        // Lighting, noise and quantisation.
        double brightness = 0.75 + 0.45 * rng.NextDouble();
        double light = rng.NextDouble();
        bool night = light < 0.06, blackAndWhite = light >= 0.06 && light < 0.14;
        if (night) brightness *= 0.35;
        double noise = 4 + 6 * rng.NextDouble();
        var bytes = new byte[rgb.Length];
        for (int p = 0; p < width * height; p++)
        {
            int i = p * 3;
            double r = rgb[i] * brightness, g = rgb[i + 1] * brightness, b = rgb[i + 2] * brightness;
            if (night) b += 12;
            if (blackAndWhite) r = g = b = 0.299 * r + 0.587 * g + 0.114 * b;
            double n = (rng.NextDouble() - 0.5) * 2 * noise;
            bytes[i] = ToByte(r + n);
            bytes[i + 1] = ToByte(g + n);
            bytes[i + 2] = ToByte(b + n);
        }

        // A text watermark in a corner, block letters drawn by pixels.
        if (rng.NextDouble() < options.WatermarkRate)
        {
            string text = Watermarks[rng.Next(Watermarks.Length)];
            int scale = Math.Max(1, (int)Math.Round(height * options.WatermarkSize / PixelFont.GlyphHeight));
            int textWidth = PixelFont.Width(text, scale), margin = Math.Max(2, height / 40);
            int tx = rng.NextDouble() < 0.5 ? margin : width - textWidth - margin;
            int ty = rng.NextDouble() < 0.5 ? margin : height - PixelFont.GlyphHeight * scale - margin;
            byte shade = rng.NextDouble() < 0.75 ? (byte)255 : (byte)20;
            PixelFont.Draw(bytes, width, height, tx, ty, text, (shade, shade, shade), scale, 0.45 + 0.4 * rng.NextDouble());
        }

        // What a detector would report: edges off by up to box_jitter of the box size, sometimes a box on part
        // of the fin only (too small), sometimes nothing.
        int quality = Math.Clamp(options.JpegQualityMin + rng.Next(Math.Max(1, options.JpegQualityMax - options.JpegQualityMin + 1)), 1, 100);
        bool hasBox = rng.NextDouble() >= options.BoxMissingRate;
        double w = bx1 - bx0, h = by1 - by0;
        double dx0 = bx0 + w * options.BoxJitter * (2 * rng.NextDouble() - 1), dx1 = bx1 + w * options.BoxJitter * (2 * rng.NextDouble() - 1);
        double dy0 = by0 + h * options.BoxJitter * (2 * rng.NextDouble() - 1), dy1 = by1 + h * options.BoxJitter * (2 * rng.NextDouble() - 1);
        if (rng.NextDouble() < options.BoxJitter)
        {
            double keep = 0.2 + 0.3 * rng.NextDouble(), fx = rng.NextDouble() * (1 - keep), fy = rng.NextDouble() * (1 - keep);
            (dx0, dx1) = (bx0 + w * fx, bx0 + w * (fx + keep));
            (dy0, dy1) = (by0 + h * fy, by0 + h * (fy + keep));
        }
        int x0 = Math.Clamp((int)Math.Floor(dx0), 0, width), x1 = Math.Clamp((int)Math.Ceiling(dx1), 0, width);
        int y0 = Math.Clamp((int)Math.Floor(dy0), 0, height), y1 = Math.Clamp((int)Math.Ceiling(dy1), 0, height);
        return new RenderedPhoto(bytes, width, height, quality, x0, y0, x1, y1, hasBox);
    }

    static void Blend(float[] rgb, float[] mask, (double R, double G, double B) colour, int width, int height, bool shadeTop)
    {
        for (int y = 0; y < height; y++)
        {
            double shade = shadeTop ? 1.1 - 0.2 * y / height : 1;
            for (int x = 0; x < width; x++)
            {
                float a = mask[y * width + x];
                if (a <= 0) continue;
                int i = (y * width + x) * 3;
                rgb[i] += (float)((colour.R * shade - rgb[i]) * a);
                rgb[i + 1] += (float)((colour.G * shade - rgb[i + 1]) * a);
                rgb[i + 2] += (float)((colour.B * shade - rgb[i + 2]) * a);
            }
        }
    }

    static byte ToByte(double v) => (byte)Math.Clamp((int)Math.Round(v), 0, 255);

    static (int, int, int, int) Bounds((double X, double Y)[] polygon, int width, int height)
    {
        double x0 = polygon.Min(p => p.X), x1 = polygon.Max(p => p.X);
        double y0 = polygon.Min(p => p.Y), y1 = polygon.Max(p => p.Y);
        return (Math.Clamp((int)Math.Floor(x0), 0, width), Math.Clamp((int)Math.Floor(y0), 0, height),
                Math.Clamp((int)Math.Ceiling(x1), 0, width), Math.Clamp((int)Math.Ceiling(y1), 0, height));
    }
}
