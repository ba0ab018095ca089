using System.Text.Json;

namespace Plateau.Models.Tests.Support;

/// <summary>State dicts, parameter counts and multiply-adds that torchvision 0.14 reports (TestData/torch_state_dicts.json).</summary>
public static class TorchReference
{
    private static readonly Lazy<Dictionary<string, Entry>> Models = new(Load);

    public sealed record Key(string Name, long[] Shape, string Dtype);

    public sealed record Entry(IReadOnlyList<Key> StateDict, long Parameters, long MultiplyAdds);

    /// <summary>
    /// torchvision's <c>resnet{18..152}</c>, <c>resnet{50,101,152}_v1</c> (stride on the first 1x1) and the
    /// timm-layout <c>se_resnet{18..152}</c> of bench/python/se_resnet.py.
    /// </summary>
    public static Entry Get(string name) => Models.Value[name];

    private static Dictionary<string, Entry> Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "TestData", "torch_state_dicts.json");
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var result = new Dictionary<string, Entry>(StringComparer.Ordinal);
        foreach (var model in document.RootElement.GetProperty("models").EnumerateObject())
        {
            var keys = model.Value.GetProperty("state_dict").EnumerateArray()
                .Select(k => new Key(
                    k[0].GetString()!,
                    [.. k[1].EnumerateArray().Select(d => d.GetInt64())],
                    k[2].GetString()!))
                .ToList();
            result[model.Name] = new Entry(keys, model.Value.GetProperty("parameters").GetInt64(),
                model.Value.GetProperty("multiply_adds").GetInt64());
        }
        return result;
    }
}
