# Applied by stack/provision/ferretdb.sh to FerretDB v1.24.2's internal/backends/postgresql/query.go
# before the build (sed -f). A fix of ours, not FerretDB's code.
#
# FerretDB pushes `{_id: value}` down to PostgreSQL as `_jsonb->$1 @> $2`: the key is a bound
# parameter and the operator is containment, so the unique btree index FerretDB itself keeps on
# (_jsonb->'_id') is never used, and every lookup by _id reads the whole table. Measured on the local
# stack: 15,000 stored notifications made PostgreSQL spend about 230 ms of CPU per order, mostly in
# these scans. For a string or ObjectID _id (an _id is never an array, so containment and equality
# agree) the filter below compares with `=` on the literal key, which the index serves. FerretDB still
# applies the whole filter to what PostgreSQL returns, as for every pushdown.
/^\t\tcase float64, string, types\.ObjectID, bool, time\.Time, int32, int64:$/a\
\t\t\tif rootKey == "_id" {\
\t\t\t\tswitch v.(type) {\
\t\t\t\tcase string, types.ObjectID:\
\t\t\t\t\tfilters = append(filters, fmt.Sprintf(`%s->'_id' = %s`, metadata.DefaultColumn, p.Next()))\
\t\t\t\t\targs = append(args, string(must.NotFail(sjson.MarshalSingleValue(v))))\
\t\t\t\t\tcontinue\
\t\t\t\t}\
\t\t\t}
