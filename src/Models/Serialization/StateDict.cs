using static TorchSharp.torch;

namespace Plateau.Models.Serialization;

/// <summary>State dicts in PyTorch's key order.</summary>
public static class StateDict
{
    /// <summary>
    /// Parameters and persistent buffers with PyTorch's keys, in PyTorch's order: each module's own
    /// parameters, then its own buffers, then its children depth-first. (TorchSharp's <c>state_dict()</c>
    /// lists every parameter of the whole tree before any buffer.) The tensors are the module's own, not copies.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, Tensor>> Ordered(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var entries = new List<KeyValuePair<string, Tensor>>();
        Collect(module, "", entries);
        return entries;
    }

    /// <summary>The keys of <see cref="Ordered"/>.</summary>
    public static IReadOnlyList<string> Keys(nn.Module module) => [.. Ordered(module).Select(e => e.Key)];

    private static void Collect(nn.Module module, string prefix, List<KeyValuePair<string, Tensor>> entries)
    {
        foreach (var (name, parameter) in module.named_parameters(recurse: false))
        {
            entries.Add(new(prefix + name, parameter));
        }
        foreach (var (name, buffer) in module.named_buffers(recurse: false, include_nonpersistent: false))
        {
            entries.Add(new(prefix + name, buffer));
        }
        foreach (var (name, child) in module.named_children())
        {
            Collect(child, $"{prefix}{name}.", entries);
        }
    }
}
