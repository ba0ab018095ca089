namespace Plateau.Contracts.Training;

/// <summary>Steps [StartStep, EndStep) with the rate going linearly from StartLr to EndLr (equal for a constant rate).
/// The rate at step s is StartLr + (EndLr − StartLr) × (s − StartStep) / (EndStep − StartStep).</summary>
[GenerateSerializer, Immutable, Alias("plateau.LrSegment")]
public sealed record LrSegment(
    [property: Id(0)] long StartStep,
    [property: Id(1)] long EndStep,
    [property: Id(2)] double StartLr,
    [property: Id(3)] double EndLr)
{
    public double At(long globalStep)
    {
        if (StartLr == EndLr || EndStep <= StartStep)
        {
            return StartLr;
        }

        var t = Math.Clamp((double)(globalStep - StartStep) / (EndStep - StartStep), 0.0, 1.0);
        return StartLr + ((EndLr - StartLr) * t);
    }
}
