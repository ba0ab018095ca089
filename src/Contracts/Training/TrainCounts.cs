namespace Plateau.Contracts.Training;

/// <summary>Training counts of one rank over an epoch, summed across ranks.</summary>
[GenerateSerializer, Immutable, Alias("plateau.TrainCounts")]
public sealed record TrainCounts(
    [property: Id(0)] long Samples,
    [property: Id(1)] double LossSum,
    [property: Id(2)] long CorrectTop1)
{
    public static TrainCounts Zero { get; } = new(0, 0, 0);

    public static TrainCounts operator +(TrainCounts a, TrainCounts b) =>
        new(a.Samples + b.Samples, a.LossSum + b.LossSum, a.CorrectTop1 + b.CorrectTop1);

    public static TrainCounts Add(TrainCounts a, TrainCounts b) => a + b;

    public double MeanLoss => Samples == 0 ? double.NaN : LossSum / Samples;

    public double Top1Error => Samples == 0 ? double.NaN : 1.0 - ((double)CorrectTop1 / Samples);
}
