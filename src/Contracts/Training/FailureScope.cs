namespace Plateau.Contracts.Training;

/// <summary>What a <see cref="FailureReport"/> takes down.</summary>
public enum FailureScope
{
    /// <summary>The worker group: the job re-forms at the next generation (counted against maxRestarts).</summary>
    Group = 0,

    /// <summary>The job itself: re-forming cannot help (e.g. the gradients diverged), so it fails now.</summary>
    Job = 1,
}
