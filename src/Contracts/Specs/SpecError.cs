namespace Plateau.Contracts.Specs;

/// <summary>One problem in a job spec: <c>spec.optimizer.lr: must be &gt; 0, got -1</c>.</summary>
[GenerateSerializer, Immutable, Alias("plateau.v1.SpecError")]
public sealed record SpecError([property: Id(0)] string Field, [property: Id(1)] string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}
