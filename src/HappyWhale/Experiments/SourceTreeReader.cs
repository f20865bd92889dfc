using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace HappyWhale.Experiments;

/// <summary>A comment and the line it sits on; defaults.yaml keeps each key's rule in its trailing comment.</summary>
internal readonly record struct SourceComment(int Line, string Text);

/// <summary>The outcome of reading one YAML text: the root node (null when unreadable), its comments and any errors.</summary>
internal sealed record SourceDocument(SourceNode? Root, IReadOnlyList<SourceComment> Comments, IReadOnlyList<ExperimentError> Errors);

/// <summary>
/// Reads YAML text into a <see cref="SourceNode"/> tree through YamlDotNet's event parser, keeping
/// positions and comments. Errors are returned, not thrown, so the loader can report them together
/// with errors from other files.
/// </summary>
internal static partial class SourceTreeReader
{
    public static SourceDocument ReadFile(string path, string sourceLabel)
    {
        using var reader = new StreamReader(path);
        return Read(reader, sourceLabel);
    }

    /// <param name="columnOffset">added to every column, so a --set value reports its column within the whole argument</param>
    public static SourceDocument Read(TextReader text, string sourceLabel, int columnOffset = 0)
    {
        var state = new ReaderState(sourceLabel, columnOffset);
        var content = text.ReadToEnd();
        // YamlDotNet's parser fails on a comment right after a flow collection in a block mapping
        // ("models: []  # ..."), so the parser skips comments and a token scan collects them.
        CollectComments(content, state.Comments);
        try
        {
            var parser = new Parser(new Scanner(new StringReader(content), skipComments: true));
            state.Parser = parser;
            state.Next();
            state.Expect<StreamStart>();
            SourceNode? root = null;
            if (state.Current is DocumentStart)
            {
                state.Next();
                root = state.ReadNode();
                state.Expect<DocumentEnd>();
                if (state.Current is DocumentStart extra)
                    state.Errors.Add(new(state.Position(extra.Start), "only one YAML document is allowed per file"));
            }
            return new(root, state.Comments, state.Errors);
        }
        catch (YamlException e)
        {
            state.Errors.Add(new(state.Position(e.Start), "YAML syntax error: " + StripMarks(e.Message)));
            return new(null, state.Comments, state.Errors);
        }
    }

    private static void CollectComments(string content, List<SourceComment> into)
    {
        try
        {
            var scanner = new Scanner(new StringReader(content), skipComments: false);
            while (scanner.MoveNext())
                if (scanner.Current is YamlDotNet.Core.Tokens.Comment c) into.Add(new((int)c.Start.Line, c.Value.Trim()));
        }
        catch (YamlException)
        {
            // Syntax errors are the parser's to report, with their position.
        }
    }

    // YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (...): "; our error carries the position already.
    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex MarkPrefix();

    private static string StripMarks(string message) => MarkPrefix().Replace(message, "");

    private sealed class ReaderState(string source, int columnOffset)
    {
        public Parser Parser = null!;
        public ParsingEvent? Current;
        public readonly List<SourceComment> Comments = [];
        public readonly List<ExperimentError> Errors = [];
        private readonly Dictionary<string, SourceNode> _anchors = [];

        public SourcePosition Position(Mark mark) =>
            new(source, (int)Math.Max(1, mark.Line), (int)Math.Max(1, mark.Column) + columnOffset);

        /// <summary>Advances to the next event that is not a comment, recording comments on the way.</summary>
        public void Next()
        {
            while (true)
            {
                Current = Parser.MoveNext() ? Parser.Current : null;
                if (Current is not Comment c) return;
                Comments.Add(new((int)c.Start.Line, c.Value.Trim()));
            }
        }

        public void Expect<T>() where T : ParsingEvent
        {
            if (Current is not T)
                throw new YamlException(Current?.Start ?? Mark.Empty, Current?.End ?? Mark.Empty,
                    $"expected {typeof(T).Name}, found {Current?.GetType().Name ?? "end of input"}");
            Next();
        }

        public SourceNode ReadNode()
        {
            var ev = Current ?? throw new YamlException("unexpected end of input");
            var at = Position(ev.Start);
            SourceNode node;
            switch (ev)
            {
                case AnchorAlias alias:
                    Next();
                    if (_anchors.TryGetValue(alias.Value.Value, out var target)) return target;
                    Errors.Add(new(at, $"unknown anchor '*{alias.Value.Value}'"));
                    return new SourceScalar(at, "", isPlain: true);
                case Scalar s:
                    // An explicit tag (!!str etc.) means the author chose the type; treat it like a quoted string.
                    node = new SourceScalar(at, s.Value, s.Style == ScalarStyle.Plain && s.Tag.IsEmpty);
                    Next();
                    break;
                case SequenceStart:
                    Next();
                    var list = new SourceList(at);
                    while (Current is not SequenceEnd) list.Items.Add(ReadNode());
                    Next();
                    node = list;
                    break;
                case MappingStart:
                    Next();
                    node = ReadMapBody(new SourceMap(at));
                    break;
                default:
                    throw new YamlException(ev.Start, ev.End, $"unexpected {ev.GetType().Name}");
            }
            if (ev is NodeEvent { Anchor.IsEmpty: false } anchored) _anchors[anchored.Anchor.Value] = node;
            return node;
        }

        private SourceMap ReadMapBody(SourceMap map)
        {
            while (Current is not MappingEnd)
            {
                var keyNode = ReadNode();
                var value = ReadNode();
                if (keyNode is not SourceScalar key)
                    Errors.Add(new(keyNode.At, "a key must be a plain word, not " + keyNode.Describe()));
                else if (map.TryGet(key.Value, out _))
                    Errors.Add(new(key.At, $"duplicate key '{key.Value}'"));
                else
                    map.Set(key, value);
            }
            Next();
            return map;
        }
    }
}
