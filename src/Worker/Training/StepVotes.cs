namespace Plateau.Worker.Training;

/// <summary>What a rank asks of the group at a step boundary; combined across ranks with the gradients.</summary>
public readonly record struct StepVotes(bool Pause, bool Stop)
{
    public static StepVotes None => default;
}
