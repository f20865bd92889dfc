namespace HappyWhale.Data.Synthetic;

/// <summary>
/// The outline of one individual's fin in fin space (y up): leading edge from (0,0) to the tip,
/// trailing edge from the tip to (1,0) with the individual's notches cut into it, then the base.
/// </summary>
public static class FinOutline
{
    const int EdgeSamples = 24;
    const int TrailingSamples = 96;

    public static (double X, double Y)[] Build(SpeciesProfile species, IReadOnlyList<Notch> notches)
    {
        var points = new List<(double X, double Y)>(EdgeSamples + TrailingSamples + 2);
        (double X, double Y) start = (0, 0), tip = (species.TipX, species.Height), end = (1, 0);

        var leadControl = Control(start, tip, species.LeadingBulge);
        for (int i = 0; i < EdgeSamples; i++)
            points.Add(Bezier(start, leadControl, tip, (double)i / EdgeSamples));

        var trailControl = Control(tip, end, species.TrailingBulge);
        for (int i = 0; i <= TrailingSamples; i++)
        {
            double t = (double)i / TrailingSamples;
            var p = Bezier(tip, trailControl, end, t);
            double depth = 0;
            foreach (var n in notches)
                depth = Math.Max(depth, n.Depth * Math.Max(0, 1 - Math.Abs(t - n.At) / n.HalfWidth));
            if (depth > 0)
            {
                // Tangent of the curve; the interior lies on its right-hand side (dy, -dx).
                var (tx, ty) = BezierTangent(tip, trailControl, end, t);
                double len = Math.Sqrt(tx * tx + ty * ty);
                p = (p.X + depth * ty / len, p.Y - depth * tx / len);
            }
            points.Add(p);
        }
        return points.ToArray();
    }

    // Control point of a quadratic Bezier bent outward (to the left of a -> b) by bulge * chord length.
    static (double X, double Y) Control((double X, double Y) a, (double X, double Y) b, double bulge)
    {
        double dx = b.X - a.X, dy = b.Y - a.Y;
        return ((a.X + b.X) / 2 - dy * bulge * 2, (a.Y + b.Y) / 2 + dx * bulge * 2);
    }

    static (double X, double Y) Bezier((double X, double Y) a, (double X, double Y) c, (double X, double Y) b, double t)
    {
        double u = 1 - t;
        return (u * u * a.X + 2 * u * t * c.X + t * t * b.X, u * u * a.Y + 2 * u * t * c.Y + t * t * b.Y);
    }

    static (double X, double Y) BezierTangent((double X, double Y) a, (double X, double Y) c, (double X, double Y) b, double t)
        => (2 * (1 - t) * (c.X - a.X) + 2 * t * (b.X - c.X), 2 * (1 - t) * (c.Y - a.Y) + 2 * t * (b.Y - c.Y));
}
