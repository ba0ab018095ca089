namespace Plateau.Models.Architecture;

/// <summary>
/// A registered variant with its options resolved and checked: everything needed to build the module
/// or to count its parameters and multiply-adds without building it.
/// </summary>
public sealed record ResNetArchitecture
{
    private ResNetArchitecture(ModelVariant variant, int numClasses, int inputSize, int inputChannels,
        ShortcutOption? shortcut, BottleneckStride bottleneckStride, bool zeroInitResidual,
        SqueezeExcitationOptions? squeezeExcitation, IReadOnlyList<BlockPlan> blocks)
    {
        Variant = variant;
        NumClasses = numClasses;
        InputSize = inputSize;
        InputChannels = inputChannels;
        Shortcut = shortcut;
        BottleneckStride = bottleneckStride;
        ZeroInitResidual = zeroInitResidual;
        SqueezeExcitation = squeezeExcitation;
        Blocks = blocks;
    }

    public ModelVariant Variant { get; }

    public string Name => Variant.Name;

    public int NumClasses { get; }

    public int InputSize { get; }

    public int InputChannels { get; }

    /// <summary>The shortcut option in force; null for plain networks.</summary>
    public ShortcutOption? Shortcut { get; }

    public BottleneckStride BottleneckStride { get; }

    public bool ZeroInitResidual { get; }

    /// <summary>The SE switches in force; null when the network has no SE blocks.</summary>
    public SqueezeExcitationOptions? SqueezeExcitation { get; }

    /// <summary>Every block in forward order.</summary>
    public IReadOnlyList<BlockPlan> Blocks { get; }

    /// <summary>Channels entering global pooling and the fc layer.</summary>
    public int FeatureChannels => Variant.StageWidths[^1] * Variant.Expansion;

    /// <summary>Resolves <paramref name="options"/> against <paramref name="variant"/>; throws <see cref="ArgumentException"/>
    /// naming the bad setting and, for an option the variant lacks, the <paramref name="registered"/> variants it applies to.</summary>
    public static ResNetArchitecture Resolve(ModelVariant variant, ModelOptions options, IReadOnlyList<ModelVariant> registered)
    {
        ArgumentNullException.ThrowIfNull(variant);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(registered);
        string AppliesTo(Func<ModelVariant, bool> has) => string.Join(", ", registered.Where(has).Select(v => v.Name));
        var name = variant.Name;

        var numClasses = options.NumClasses ?? variant.DefaultNumClasses;
        if (numClasses < 1)
        {
            throw Invalid(nameof(ModelOptions.NumClasses), $"{name}: NumClasses must be at least 1, got {numClasses}.");
        }
        var inputSize = options.InputSize ?? variant.NativeInputSize;
        if (inputSize < variant.TotalStride)
        {
            throw Invalid(nameof(ModelOptions.InputSize),
                $"{name}: InputSize must be at least {variant.TotalStride} (the network's total stride), got {inputSize}.");
        }
        if (options.InputChannels < 1)
        {
            throw Invalid(nameof(ModelOptions.InputChannels), $"{name}: InputChannels must be at least 1, got {options.InputChannels}.");
        }

        ShortcutOption? shortcut = null;
        if (variant.Residual)
        {
            shortcut = options.Shortcut ?? variant.DefaultShortcut;
        }
        else if (options.Shortcut is { } requested)
        {
            throw Invalid(nameof(ModelOptions.Shortcut),
                $"{name} is a plain network (no shortcuts), so Shortcut = {requested} cannot apply; shortcut options apply to: {AppliesTo(v => v.Residual)}.");
        }
        if (options.ZeroInitResidual && !variant.Residual)
        {
            throw Invalid(nameof(ModelOptions.ZeroInitResidual),
                $"{name} is a plain network: zero-initialising the last BN of each block would zero its output. ZeroInitResidual applies to residual networks only.");
        }

        if (options.BottleneckStride is { } stridePlacement && variant.Block != BlockKind.Bottleneck)
        {
            throw Invalid(nameof(ModelOptions.BottleneckStride),
                $"{name} has basic blocks; BottleneckStride = {stridePlacement} applies to bottleneck networks only: {AppliesTo(v => v.Block == BlockKind.Bottleneck)}.");
        }
        var bottleneckStride = options.BottleneckStride ?? BottleneckStride.OnThreeByThree;

        SqueezeExcitationOptions? se = null;
        if (variant.SqueezeExcitation)
        {
            se = options.SqueezeExcitation ?? new SqueezeExcitationOptions();
            ValidateSqueezeExcitation(variant, se);
        }
        else if (options.SqueezeExcitation is not null)
        {
            throw Invalid(nameof(ModelOptions.SqueezeExcitation),
                $"{name} has no SE blocks; SqueezeExcitation options apply to: {AppliesTo(v => v.SqueezeExcitation)}.");
        }

        var blocks = PlanBlocks(variant, shortcut, bottleneckStride, se);
        return new ResNetArchitecture(variant, numClasses, inputSize, options.InputChannels, shortcut,
            bottleneckStride, options.ZeroInitResidual, se, blocks);
    }

    private static void ValidateSqueezeExcitation(ModelVariant variant, SqueezeExcitationOptions se)
    {
        if (se.Reduction < 1)
        {
            throw Invalid("SqueezeExcitation.Reduction", $"{variant.Name}: SqueezeExcitation.Reduction must be at least 1, got {se.Reduction}.");
        }
        if (!Enum.IsDefined(se.Squeeze))
        {
            throw Invalid("SqueezeExcitation.Squeeze", $"{variant.Name}: SqueezeExcitation.Squeeze {se.Squeeze} is not one of {string.Join(", ", Enum.GetNames<SqueezeMode>())}.");
        }
        if (!Enum.IsDefined(se.Gate))
        {
            throw Invalid("SqueezeExcitation.Gate", $"{variant.Name}: SqueezeExcitation.Gate {se.Gate} is not one of {string.Join(", ", Enum.GetNames<GateFunction>())}.");
        }
        if (se.Stages is { } stages)
        {
            var stageCount = variant.BlocksPerStage.Count;
            var bad = stages.Where(s => s < 1 || s > stageCount).ToList();
            if (bad.Count > 0)
            {
                throw Invalid("SqueezeExcitation.Stages",
                    $"{variant.Name}: SqueezeExcitation.Stages has {string.Join(", ", bad)}; valid stages are 1 to {stageCount}.");
            }
        }
    }

    private static List<BlockPlan> PlanBlocks(ModelVariant variant, ShortcutOption? shortcut,
        BottleneckStride bottleneckStride, SqueezeExcitationOptions? se)
    {
        var blocks = new List<BlockPlan>();
        var inChannels = variant.StemWidth;
        for (var s = 0; s < variant.BlocksPerStage.Count; s++)
        {
            var width = variant.StageWidths[s];
            var outChannels = width * variant.Expansion;
            var stage = s + 1;
            for (var i = 0; i < variant.BlocksPerStage[s]; i++)
            {
                // The first block of every stage but the first halves the map (torchvision's _make_layer).
                var stride = i == 0 && s > 0 ? 2 : 1;
                var dimsChange = stride != 1 || inChannels != outChannels;
                var kind = shortcut switch
                {
                    null => ShortcutKind.None,
                    ShortcutOption.A => dimsChange ? ShortcutKind.ZeroPad : ShortcutKind.Identity,
                    ShortcutOption.B => dimsChange ? ShortcutKind.Projection : ShortcutKind.Identity,
                    _ => ShortcutKind.Projection,
                };
                int? seChannels = se is not null && se.AppliesToStage(stage) ? se.ReducedChannels(outChannels) : null;
                var strideOnFirst = variant.Block == BlockKind.Bottleneck && stride != 1
                    && bottleneckStride == BottleneckStride.OnFirstOneByOne;
                blocks.Add(new BlockPlan(stage, i, inChannels, width, outChannels, stride, strideOnFirst, kind, seChannels));
                inChannels = outChannels;
            }
        }
        return blocks;
    }

    private static ArgumentException Invalid(string setting, string message) => new(message, setting);
}
