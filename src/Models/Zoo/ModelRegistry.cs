using Plateau.Models.Architecture;
using Plateau.Models.Counting;
using Plateau.Models.ResNets;

namespace Plateau.Models.Zoo;

/// <summary>
/// Every network Plateau trains, by name: ImageNet <c>resnet{18,34,50,101,152}</c>, <c>plain{..}</c>
/// and <c>se_resnet{..}</c>; CIFAR <c>resnet{20,32,44,56,110,1202}_cifar</c>, <c>plain{..}_cifar</c>
/// and <c>se_resnet{..}_cifar</c>.
/// </summary>
public static class ModelRegistry
{
    private static readonly (int Depth, BlockKind Block, int[] Blocks)[] ImageNetDepths =
    [
        (18, BlockKind.Basic, [2, 2, 2, 2]),
        (34, BlockKind.Basic, [3, 4, 6, 3]),
        (50, BlockKind.Bottleneck, [3, 4, 6, 3]),
        (101, BlockKind.Bottleneck, [3, 4, 23, 3]),
        (152, BlockKind.Bottleneck, [3, 8, 36, 3]),
    ];

    // Depth 6n + 2: n basic blocks in each of three stages.
    private static readonly int[] CifarDepths = [20, 32, 44, 56, 110, 1202];

    private static readonly List<ModelVariant> VariantList = BuildVariants();

    private static readonly Dictionary<string, ModelVariant> Variants = VariantList.ToDictionary(v => v.Name, StringComparer.Ordinal);

    /// <summary>Registered names, ImageNet first, each family as ResNet, plain, SE-ResNet by depth.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. VariantList.Select(v => v.Name)];

    public static bool Contains(string name) => name is not null && Variants.ContainsKey(name);

    /// <summary>The variant record registered as <paramref name="name"/>.</summary>
    public static ModelVariant Variant(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Variants.TryGetValue(name, out var variant)
            ? variant
            : throw new ArgumentException($"Unknown model '{name}'. Valid models: {string.Join(", ", Names)}.", nameof(name));
    }

    /// <summary>Resolves and checks options without building anything.</summary>
    public static ResNetArchitecture Resolve(string name, ModelOptions? options = null) =>
        ResNetArchitecture.Resolve(Variant(name), options ?? ModelOptions.Default, VariantList);

    /// <summary>Builds <paramref name="name"/> on the CPU, He-initialised; move it with <c>.to(device)</c>.</summary>
    public static ResNet Create(string name, ModelOptions? options = null) => new(Resolve(name, options));

    /// <summary>Name, layout, native input size and exact parameter / multiply-add counts, without allocating weights.</summary>
    public static ModelDescription Describe(string name, ModelOptions? options = null)
    {
        var architecture = Resolve(name, options);
        var variant = architecture.Variant;
        return new ModelDescription(variant.Name, variant.Family, variant.Depth, variant.Block, variant.Residual,
            variant.SqueezeExcitation, variant.NativeInputSize, architecture.NumClasses, architecture.InputSize,
            ModelCost.Of(architecture));
    }

    private static List<ModelVariant> BuildVariants()
    {
        var variants = new List<ModelVariant>();
        foreach (var (prefix, residual, se) in new[] { ("resnet", true, false), ("plain", false, false), ("se_resnet", true, true) })
        {
            variants.AddRange(ImageNetDepths.Select(d =>
                new ModelVariant($"{prefix}{d.Depth}", ModelFamily.ImageNet, d.Block, d.Blocks, residual, se)));
        }
        foreach (var (prefix, residual, se) in new[] { ("resnet", true, false), ("plain", false, false), ("se_resnet", true, true) })
        {
            variants.AddRange(CifarDepths.Select(depth =>
            {
                var n = (depth - 2) / 6;
                return new ModelVariant($"{prefix}{depth}_cifar", ModelFamily.Cifar, BlockKind.Basic, [n, n, n], residual, se);
            }));
        }
        return variants;
    }
}
