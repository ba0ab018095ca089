namespace Plateau.Contracts.Jobs;

/// <summary>What a warning event is about.</summary>
[GenerateSerializer]
public enum WarningKind
{
    /// <summary>Steps were skipped because the averaged gradients were NaN or infinite.</summary>
    NonFiniteSteps,
    /// <summary>One rank's own work per step is much slower than the others'.</summary>
    Straggler,
}
