namespace Plateau.Contracts.Training;

/// <summary>Validation counts of one rank (its exact share, no padded duplicates), summed across ranks.</summary>
[GenerateSerializer, Immutable, Alias("plateau.EvalCounts")]
public sealed record EvalCounts(
    [property: Id(0)] long CorrectTop1,
    [property: Id(1)] long CorrectTop5,
    [property: Id(2)] long Total,
    /// <summary>Sum of per-sample losses (not a mean).</summary>
    [property: Id(3)] double LossSum)
{
    public static EvalCounts Zero { get; } = new(0, 0, 0, 0);

    public static EvalCounts operator +(EvalCounts a, EvalCounts b) =>
        new(a.CorrectTop1 + b.CorrectTop1, a.CorrectTop5 + b.CorrectTop5, a.Total + b.Total, a.LossSum + b.LossSum);

    public static EvalCounts Add(EvalCounts a, EvalCounts b) => a + b;

    public double Top1Error => Total == 0 ? double.NaN : 1.0 - ((double)CorrectTop1 / Total);

    public double Top5Error => Total == 0 ? double.NaN : 1.0 - ((double)CorrectTop5 / Total);

    public double MeanLoss => Total == 0 ? double.NaN : LossSum / Total;
}
