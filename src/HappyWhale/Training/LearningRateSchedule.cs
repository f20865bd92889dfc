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

/// <summary>
/// The public TPU baselines' schedule, per step: linear ramp from start x peak to the peak over
/// the ramp epochs, held for the sustain epochs, then exponential decay by <c>decay</c> per epoch
/// towards the floor (floorRatio x peak).
/// </summary>
public sealed record RampSchedule(double Peak, long StepsPerEpoch, double StartRatio, double RampEpochs, double SustainEpochs, double Decay,
    double FloorRatio) : ILearningRateSchedule
{
    public double At(long step)
    {
        double epoch = (double)step / Math.Max(1, StepsPerEpoch);
        double start = Peak * StartRatio, floor = Peak * FloorRatio;
        if (epoch < RampEpochs) return start + (Peak - start) * epoch / RampEpochs;
        if (epoch < RampEpochs + SustainEpochs) return Peak;
        return floor + (Peak - floor) * Math.Pow(Decay, epoch - RampEpochs - SustainEpochs);
    }
}

public static class LearningRateSchedules
{
    public static ILearningRateSchedule For(HappyWhale.Experiments.TrainSpec spec, double peak, long stepsPerEpoch, int epochs) => spec.Schedule switch
    {
        HappyWhale.Experiments.ScheduleType.Ramp => new RampSchedule(peak, stepsPerEpoch, spec.Ramp.Start, spec.Ramp.Epochs, spec.Ramp.SustainEpochs, spec.Ramp.Decay, spec.MinLr),
        _ => WarmupCosineSchedule.ForPhase(peak, stepsPerEpoch * epochs, spec.Warmup, spec.MinLr),
    };
}
