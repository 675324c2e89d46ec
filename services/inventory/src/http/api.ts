import { defineApi } from '@ecom/shared';
import { createProductBody, listQuery, orderIdParam, skuParam, updateProductBody } from './schemas';

/** The inventory service's public API: routed by routes.ts and documented at /openapi.json from these declarations. */
export const inventoryApi = defineApi({
  service: 'inventory',
  title: 'ecom-micro inventory',
  description:
    'The catalogue (sku, name, price, stock) and stock reservations held for orders; stock is never oversold.',
  operations: {
    listProducts: {
      method: 'get',
      path: '/products',
      summary: 'The catalogue, by sku, a page at a time.',
      access: 'public',
      input: { query: listQuery },
      success: {
        status: 200,
        description: '`{items: [{sku, name, price, currency, available}], nextCursor}`.',
      },
    },
    getProduct: {
      method: 'get',
      path: '/products/:sku',
      summary: 'One product and the stock available to order.',
      access: 'public',
      input: { params: skuParam },
      success: { status: 200, description: '`{sku, name, price, currency, available}`.' },
      errors: [404],
    },
    createProduct: {
      method: 'post',
      path: '/products',
      summary: 'Add a product with its starting stock (admin).',
      access: 'admin',
      input: { body: createProductBody },
      success: {
        status: 201,
        description: 'The product with every stock counter.',
        headers: { Location: 'The product: `/products/{sku}`.' },
      },
      errors: [409],
    },
    updateProduct: {
      method: 'patch',
      path: '/products/:sku',
      summary: "Change a product's name, price or currency, or its available stock (admin).",
      description: '`stock` sets the available stock, `stockDelta` adds to it; below zero is a 409.',
      access: 'admin',
      input: { params: skuParam, body: updateProductBody },
      success: { status: 200, description: 'The product with every stock counter.' },
      errors: [404, 409],
    },
    getReservation: {
      method: 'get',
      path: '/reservations/:orderId',
      summary: 'The stock held for an order, and what became of it (admin).',
      access: 'admin',
      input: { params: orderIdParam },
      success: { status: 200, description: 'The reservation.' },
      errors: [404],
    },
  },
});
