namespace HappyWhale.Data.Synthetic;

/// <summary>
/// Images per individual with a long tail: a Zipf law P(count >= k) = k^-alpha truncated at
/// min(10 x mean, 3% of all images) (at least 4 and twice the mean): in the competition the most photographed
/// individual holds under 1% of the images, so a small set must not let a few individuals dominate,
/// whose alpha gives the requested mean, then nudged one image at a time on random individuals so the
/// total is exactly round(n * mean). With a mean of 4 about three quarters of the individuals have one
/// or two images and the largest have tens.
/// </summary>
public static class LongTailCounts
{
    public static int[] Draw(int individuals, double mean, Random rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(individuals, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(mean, 1.0);
        var counts = new int[individuals];
        Array.Fill(counts, 1);
        if (mean <= 1.0) return counts;

        // At least twice the mean, or the requested total could not be reached at all.
        int cap = (int)Math.Max(Math.Max(4, Math.Ceiling(2 * mean)), Math.Min(10 * mean, 0.03 * individuals * mean));
        double alpha = SolveAlpha(mean, cap);
        for (int i = 0; i < individuals; i++)
        {
            double u = 1 - rng.NextDouble();                 // (0, 1]
            counts[i] = (int)Math.Min(cap, Math.Floor(Math.Pow(u, -1 / alpha)));
        }

        long target = (long)Math.Round(individuals * mean);
        long total = counts.Sum(c => (long)c);
        while (total < target)
        {
            int i = rng.Next(individuals);
            if (counts[i] < cap) { counts[i]++; total++; }
        }
        while (total > target)
        {
            int i = rng.Next(individuals);
            if (counts[i] > 1) { counts[i]--; total--; }
        }
        return counts;
    }

    // Mean of the truncated law: sum_{k=1..cap} P(count >= k) = sum k^-alpha (the last term absorbs the cap).
    static double SolveAlpha(double mean, int cap)
    {
        double lo = 0.2, hi = 20;
        for (int iter = 0; iter < 60; iter++)
        {
            double mid = (lo + hi) / 2, m = 0;
            for (int k = 1; k <= cap; k++) m += Math.Pow(k, -mid);
            if (m > mean) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }
}
