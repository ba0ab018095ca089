namespace Plateau.Models.Architecture;

/// <summary>
/// Switches of the squeeze-and-excitation block, one per ablation of the SENet paper. The defaults are
/// the paper's recommended block in timm's layout: r = 16, average squeeze, sigmoid gate, FC biases on.
/// </summary>
public sealed record SqueezeExcitationOptions
{
    /// <summary>Reduction ratio r: the excitation's hidden width is max(1, C / r).</summary>
    public int Reduction { get; init; } = 16;

    public SqueezeMode Squeeze { get; init; } = SqueezeMode.Average;

    public GateFunction Gate { get; init; } = GateFunction.Sigmoid;

    /// <summary>Bias on the two excitation FCs (<c>se.fc1.bias</c>, <c>se.fc2.bias</c>): on in timm and the released models.</summary>
    public bool Bias { get; init; } = true;

    /// <summary>
    /// The 1-based stages whose blocks carry SE (e.g. [1, 2, 3] drops it from the last ImageNet stage);
    /// null means every stage.
    /// </summary>
    public IReadOnlyList<int>? Stages { get; init; }

    /// <summary>True when blocks of the 1-based <paramref name="stage"/> carry an SE block.</summary>
    public bool AppliesToStage(int stage) => Stages is null || Stages.Contains(stage);

    /// <summary>The excitation's hidden width for a block with <paramref name="channels"/> output channels.</summary>
    public int ReducedChannels(int channels) => Math.Max(1, channels / Reduction);
}
