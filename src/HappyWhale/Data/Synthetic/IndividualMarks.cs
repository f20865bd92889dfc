namespace HappyWhale.Data.Synthetic;

/// <summary>A V-shaped notch cut into the trailing edge at position <see cref="At"/> (0 = tip, 1 = rear of the base).</summary>
public readonly record struct Notch(double At, double Depth, double HalfWidth);

/// <summary>A pigment spot or scar: an ellipse in fin space, light (scar) or dark (pigment).</summary>
public readonly record struct Spot(double X, double Y, double Radius, double Elongation, double Angle, bool Light);

/// <summary>What tells one individual apart from the others of its species.</summary>
public sealed record IndividualMarks(IReadOnlyList<Notch> Notches, IReadOnlyList<Spot> Spots, int ShadeOffset)
{
    /// <summary>Draws marks large enough to survive a resize to 64 px (notches and spots span several pixels there).</summary>
    public static IndividualMarks Draw(SpeciesProfile species, Random rng)
    {
        double size = Math.Clamp(species.Height, 0.3, 1.0);
        int notchCount = 1 + rng.Next(3);
        var notches = new List<Notch>(notchCount);
        for (int i = 0; i < notchCount; i++)
        {
            notches.Add(new Notch(
                At: 0.12 + 0.76 * rng.NextDouble(),
                Depth: size * (0.11 + 0.11 * rng.NextDouble()),
                HalfWidth: 0.05 + 0.05 * rng.NextDouble()));
        }

        int spotCount = 1 + rng.Next(4);
        var spots = new List<Spot>(spotCount);
        for (int i = 0; i < spotCount; i++)
        {
            double v = 0.10 + 0.55 * rng.NextDouble();          // height as a share of the fin
            double left = v * species.TipX, right = 1 + v * (species.TipX - 1);
            double u = 0.25 + 0.5 * rng.NextDouble();           // across the fin at that height
            spots.Add(new Spot(
                X: left + u * (right - left),
                Y: v * species.Height,
                Radius: size * (0.05 + 0.05 * rng.NextDouble()),
                Elongation: rng.NextDouble() < 0.4 ? 2 + 2 * rng.NextDouble() : 1 + 0.3 * rng.NextDouble(),
                Angle: Math.PI * rng.NextDouble(),
                Light: species.Gray < 128 ? rng.NextDouble() < 0.75 : rng.NextDouble() < 0.2));
        }
        return new IndividualMarks(notches, spots, rng.Next(-14, 15));
    }
}
