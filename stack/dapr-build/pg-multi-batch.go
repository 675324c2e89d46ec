// Added to components-contrib v1.18.0's common/component/postgresql/v1 (PostgreSQL state store v1)
// before daprd is built; stack/provision/dapr.sh renames the package's own Multi to multiOneByOne.
//
// Upstream, a transaction of N operations costs N+2 round trips to PostgreSQL: BEGIN, one
// statement per key, COMMIT. Every workflow turn saves its actor state this way (history events,
// inbox, metadata, custom status), and order's outbox transactions too. Here the statements go
// in one pgx batch inside the transaction: BEGIN, the batch, COMMIT, whatever N is.
//
// The statements are the package's own: doSet and doDelete build them against a recorder that
// queues each statement instead of running it. What they conclude from the affected-row count
// (an ETag mismatch, a first-write that lost) is checked on the counts the batch returns, and
// any failure rolls the whole transaction back, as before.
package postgresql

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	pgtransactions "github.com/dapr/components-contrib/common/component/postgresql/transactions"
	"github.com/dapr/components-contrib/state"
)

// Multi runs a transaction's statements in one batch (see the file's comment).
func (p *PostgreSQL) Multi(parentCtx context.Context, request *state.TransactionalStateRequest) error {
	if request == nil || len(request.Operations) < 2 {
		return p.multiOneByOne(parentCtx, request)
	}

	recorder := &statementRecorder{}
	checks := make([]func(pgconn.CommandTag) error, 0, len(request.Operations))
	for _, op := range request.Operations {
		queued := len(recorder.statements)
		if err := p.execMultiOperation(parentCtx, op, recorder); err != nil {
			return err
		}
		if len(recorder.statements) != queued+1 {
			return fmt.Errorf("operation on key %q built %d statements, expected 1", op.GetKey(), len(recorder.statements)-queued)
		}
		checks = append(checks, affectedRowsCheck(op))
	}

	_, err := pgtransactions.ExecuteInTransaction[struct{}](parentCtx, p.logger, p.db, p.metadata.Timeout,
		func(ctx context.Context, tx pgx.Tx) (res struct{}, err error) {
			batch := &pgx.Batch{}
			for _, s := range recorder.statements {
				batch.Queue(s.query, s.args...)
			}
			batchCtx, cancel := context.WithTimeout(ctx, p.metadata.Timeout)
			defer cancel()
			results := tx.SendBatch(batchCtx, batch)
			for _, check := range checks {
				tag, execErr := results.Exec()
				if execErr == nil {
					execErr = check(tag)
				}
				if execErr != nil {
					_ = results.Close()
					return res, execErr
				}
			}
			return res, results.Close()
		})
	return err
}

// affectedRowsCheck is what doSet and doDelete conclude from a statement's affected-row count.
func affectedRowsCheck(op state.TransactionalStateOperation) func(pgconn.CommandTag) error {
	switch x := op.(type) {
	case state.SetRequest:
		return func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() == 1 {
				return nil
			}
			if x.HasETag() {
				return state.NewETagError(state.ETagMismatch, nil)
			}
			return errors.New("no item was updated")
		}
	case state.DeleteRequest:
		return func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 && x.HasETag() {
				return state.NewETagError(state.ETagMismatch, nil)
			}
			return nil
		}
	default:
		// execMultiOperation has already refused any other operation.
		return func(pgconn.CommandTag) error { return nil }
	}
}

type recordedStatement struct {
	query string
	args  []any
}

// statementRecorder stands in for the transaction while doSet and doDelete build their
// statements. It answers "1 row affected", so their own checks pass; the real counts are
// checked once the batch has run.
type statementRecorder struct{ statements []recordedStatement }

var errNotRecordable = errors.New("postgresql state store: only Exec statements can be batched")

func (r *statementRecorder) Exec(_ context.Context, query string, args ...any) (pgconn.CommandTag, error) {
	r.statements = append(r.statements, recordedStatement{query: query, args: args})
	return pgconn.NewCommandTag("UPDATE 1"), nil
}

func (r *statementRecorder) Query(context.Context, string, ...any) (pgx.Rows, error) {
	return nil, errNotRecordable
}

func (r *statementRecorder) QueryRow(context.Context, string, ...any) pgx.Row {
	return unrecordableRow{}
}

type unrecordableRow struct{}

func (unrecordableRow) Scan(...any) error { return errNotRecordable }
