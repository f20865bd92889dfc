namespace HappyWhale.Training;

/// <summary>Learning rate as a function of the optimizer step within one phase.</summary>
public interface ILearningRateSchedule
{
    double At(long step);
}

/// <summary>
/// Linear warmup from near zero to the peak, then a half cosine down to a floor
/// (floor = <paramref name="floorRatio"/> x peak) at the last step.
/// </summary>
public sealed record WarmupCosineSchedule(double Peak, long TotalSteps, long WarmupSteps, double FloorRatio) : ILearningRateSchedule
{
    public double At(long step)
    {
        if (TotalSteps <= 0) return Peak;
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        long decaySteps = Math.Max(1, TotalSteps - WarmupSteps - 1);
        double progress = Math.Clamp((double)(step - WarmupSteps) / decaySteps, 0, 1);
        double floor = Peak * FloorRatio;
        return floor + (Peak - floor) * 0.5 * (1 + Math.Cos(Math.PI * progress));
    }

    public static WarmupCosineSchedule ForPhase(double peak, long totalSteps, double warmupShare, double floorRatio) =>
        new(peak, totalSteps, (long)Math.Round(totalSteps * warmupShare), floorRatio);
}
