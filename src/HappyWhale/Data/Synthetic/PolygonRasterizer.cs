namespace HappyWhale.Data.Synthetic;

/// <summary>
/// Anti-aliased scanline fill of a polygon (even-odd rule) into a coverage mask in [0, 1]:
/// <see cref="SubRows"/> sample rows per pixel row, exact horizontal coverage along each sample row.
/// A pixel already covered keeps the larger coverage, so several polygons make a union.
/// </summary>
public static class PolygonRasterizer
{
    public const int SubRows = 4;

    public static void Fill(float[] coverage, int width, int height, ReadOnlySpan<(double X, double Y)> polygon)
    {
        if (polygon.Length < 3) return;
        double minY = double.MaxValue, maxY = double.MinValue;
        foreach (var p in polygon) { minY = Math.Min(minY, p.Y); maxY = Math.Max(maxY, p.Y); }
        int rowStart = Math.Max(0, (int)Math.Floor(minY));
        int rowEnd = Math.Min(height - 1, (int)Math.Ceiling(maxY));
        if (rowStart > rowEnd) return;

        var row = new float[width];
        var crossings = new List<double>(16);
        const float weight = 1f / SubRows;
        for (int y = rowStart; y <= rowEnd; y++)
        {
            Array.Clear(row);
            bool any = false;
            for (int s = 0; s < SubRows; s++)
            {
                double sy = y + (s + 0.5) / SubRows;
                crossings.Clear();
                for (int i = 0, j = polygon.Length - 1; i < polygon.Length; j = i++)
                {
                    var (x0, y0) = polygon[j];
                    var (x1, y1) = polygon[i];
                    if ((y0 <= sy && sy < y1) || (y1 <= sy && sy < y0))
                        crossings.Add(x0 + (sy - y0) / (y1 - y0) * (x1 - x0));
                }
                crossings.Sort();
                for (int k = 0; k + 1 < crossings.Count; k += 2)
                {
                    AddSpan(row, crossings[k], crossings[k + 1], weight);
                    any = true;
                }
            }
            if (!any) continue;
            int offset = y * width;
            for (int x = 0; x < width; x++)
            {
                float c = Math.Min(1f, row[x]);
                if (c > coverage[offset + x]) coverage[offset + x] = c;
            }
        }
    }

    static void AddSpan(float[] row, double xa, double xb, float weight)
    {
        xa = Math.Max(0, xa);
        xb = Math.Min(row.Length, xb);
        if (xb <= xa) return;
        int ia = (int)xa, ib = (int)xb;
        if (ia == ib) { row[ia] += (float)(xb - xa) * weight; return; }
        row[ia] += (float)(ia + 1 - xa) * weight;
        for (int i = ia + 1; i < ib; i++) row[i] += weight;
        if (ib < row.Length) row[ib] += (float)(xb - ib) * weight;
    }

    /// <summary>An ellipse as a polygon of <paramref name="segments"/> vertices.</summary>
    public static (double X, double Y)[] Ellipse(double cx, double cy, double rx, double ry, double angle, int segments = 24)
    {
        var points = new (double X, double Y)[segments];
        double c = Math.Cos(angle), s = Math.Sin(angle);
        for (int i = 0; i < segments; i++)
        {
            double t = 2 * Math.PI * i / segments;
            double ex = rx * Math.Cos(t), ey = ry * Math.Sin(t);
            points[i] = (cx + c * ex - s * ey, cy + s * ex + c * ey);
        }
        return points;
    }
}
